import CleaveServer
import Testing

@Suite struct SHA256Tests {
    // FIPS 180-2 examples; also `printf 'abc' | sha256sum`.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownDigests(text: String, digest: String) {
        #expect(SHA256.hex(Array(text.utf8)) == digest)
    }

    // python3 -c "import hashlib; print(hashlib.sha256(b'a'*1000000).hexdigest())"
    @Test func millionAsInUnevenChunks() {
        let bytes = [UInt8](repeating: 0x61, count: 1_000_000)
        var hasher = SHA256()
        var offset = 0, chunk = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            hasher.update(Array(bytes[offset..<end]))
            offset = end
            chunk = chunk * 7 % 1013 + 1   // 1, 8, 57, … : crosses block boundaries in every way
        }
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(hasher.finalizeHex() == expected)
        #expect(SHA256.hex(bytes) == expected)
    }
}
