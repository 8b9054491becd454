// SHA-256 (FIPS 180-4), self-contained so the core needs no host header.
// Used to turn a gift code's secret into the identifier that is stored, and
// by test doubles to make transaction ids. Not constant-time with respect to
// message length, which is public here (always a fixed-size secret).
//
// Thread-safety: a Sha256 object is not shared; the free function is pure.
#ifndef GIFTCODE_CORE_SHA256_H
#define GIFTCODE_CORE_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace giftcode {

using Hash256 = std::array<uint8_t, 32>;

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256& Write(const uint8_t* data, size_t len);
    Sha256& Write(const std::string& data)
    {
        return Write(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    }
    Hash256 Finalize();

private:
    void Transform(const uint8_t block[64]);

    uint32_t m_state[8];
    uint8_t m_buffer[64];
    uint64_t m_bytes{0};
};

//! Overwrites memory that held a secret in a way the optimiser keeps.
void SecureWipe(void* data, size_t len);

} // namespace giftcode

#endif // GIFTCODE_CORE_SHA256_H
