// Memory for text that holds a gift code. A code is a bearer secret (see
// plugin/core/code.h): a card sheet holds every code it prints, in its text
// and in its QR codes, so the strings and the PDF being built live in
// buffers that are overwritten before they go back to the allocator. A
// growing SecretString wipes each buffer it leaves behind, not only its
// last one.
//
// Thread-safety: plain values.
#ifndef GIFTCODE_CARDS_SECRET_H
#define GIFTCODE_CARDS_SECRET_H

#include "sha256.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace giftcode::cards {

//! std::allocator, except that memory is wiped before it is freed.
template <typename T>
struct WipingAllocator {
    using value_type = T;

    WipingAllocator() noexcept = default;
    template <typename U>
    WipingAllocator(const WipingAllocator<U>&) noexcept {}

    T* allocate(size_t n) { return std::allocator<T>{}.allocate(n); }
    void deallocate(T* p, size_t n) noexcept
    {
        SecureWipe(p, n * sizeof(T));
        std::allocator<T>{}.deallocate(p, n);
    }

    template <typename U>
    bool operator==(const WipingAllocator<U>&) const noexcept { return true; }
    template <typename U>
    bool operator!=(const WipingAllocator<U>&) const noexcept { return false; }
};

//! Text that holds a code, or a PDF that does. Strings longer than the
//! small-string buffer (15 characters) live on the heap, so every code (43
//! characters) and every line of one is wiped when freed.
using SecretString = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

//! QR modules, one byte each, 1 for dark.
using SecretBytes = std::vector<unsigned char, WipingAllocator<unsigned char>>;

//! Moves a std::string that holds a secret (the core's formatters return
//! one) into a SecretString, wiping the original.
inline SecretString TakeSecret(std::string& text)
{
    SecretString out(text.data(), text.size());
    SecureWipe(&text[0], text.size());
    text.clear();
    return out;
}

} // namespace giftcode::cards

#endif // GIFTCODE_CARDS_SECRET_H
