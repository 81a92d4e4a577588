import Foundation
import SimKernel
import Testing

/// FIPS 180-2's test vectors and a non-ASCII text, so a change of hashing library cannot silently change the
/// addresses stored runs were given.
@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func hashesTheUTF8Bytes() {
        #expect(
            SHA256.hex(of: "name: quickstart — é")
                == "ee47957c1ec61a97775ffe7901fc9f8ebd5cbeadf7b6809ecae36815eeda64e9")
    }

    @Test("a file's digest, streamed in chunks, is the digest of its bytes; nil for a missing file")
    func fileDigestStreams() throws {
        let bytes = (0..<(5 << 19) + 7).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        for count in [0, 1, 1 << 20, bytes.count] {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: url) }
            try Data(bytes.prefix(count)).write(to: url)
            #expect(SHA256.hex(ofFileAt: url.path) == SHA256.hex(of: bytes.prefix(count)), "\(count) bytes")
        }
        #expect(SHA256.hex(ofFileAt: "/nonexistent/sha256-test") == nil)
    }
}
