// SHA-256 against the FIPS 180-4 example vectors, including messages that
// cross block boundaries and are written in pieces.
#include "sha256.h"

#include <boost/test/unit_test.hpp>

using namespace giftcode;

namespace {
std::string Hex(const Hash256& h)
{
    static const char d[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : h) {
        out.push_back(d[b >> 4]);
        out.push_back(d[b & 15]);
    }
    return out;
}
} // namespace

BOOST_AUTO_TEST_SUITE(sha256_tests)

BOOST_AUTO_TEST_CASE(fips_vectors)
{
    BOOST_CHECK_EQUAL(Hex(Sha256().Finalize()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_CHECK_EQUAL(Hex(Sha256().Write("abc").Finalize()),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    BOOST_CHECK_EQUAL(Hex(Sha256().Write("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").Finalize()),
                      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

BOOST_AUTO_TEST_CASE(million_a_in_uneven_pieces)
{
    Sha256 h;
    const std::string piece(997, 'a');
    size_t written = 0;
    while (written + piece.size() <= 1000000) {
        h.Write(piece);
        written += piece.size();
    }
    h.Write(std::string(1000000 - written, 'a'));
    BOOST_CHECK_EQUAL(Hex(h.Finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

BOOST_AUTO_TEST_CASE(secure_wipe_zeroes)
{
    uint8_t buf[33];
    for (auto& b : buf) b = 0xa5;
    SecureWipe(buf, sizeof(buf));
    for (uint8_t b : buf) BOOST_CHECK_EQUAL(b, 0);
}

BOOST_AUTO_TEST_SUITE_END()
