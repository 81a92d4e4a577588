internal import CLibCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SHA-256 through the system's libcrypto (OpenSSL), for content addresses: a scenario's text, the files it
/// names, a calibration input. Not on any hot path.
public enum SHA256 {
    /// The digest of `bytes`, as 64 lowercase hexadecimal digits.
    public static func hex(of bytes: some Collection<UInt8>) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = Array(bytes).withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        // EVP_Digest fails only when libcrypto cannot allocate a context: nothing a caller could handle.
        precondition(ok == 1 && length == 32, "libcrypto's EVP_Digest(SHA-256) failed")
        return hex(digest.prefix(Int(length)))
    }

    /// The digest of `text`'s UTF-8 bytes.
    public static func hex(of text: String) -> String { hex(of: Array(text.utf8)) }

    /// The digest of the bytes of the file at `path`, read in 1 MiB chunks so that a large trace is never held
    /// in memory whole; nil if the file cannot be opened or read to its end.
    public static func hex(ofFileAt path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("libcrypto cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "libcrypto's SHA-256 did not start")
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 {
                let ok = chunk.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, count) }
                precondition(ok == 1, "libcrypto's SHA-256 update failed")
            }
            if count < chunk.count { break }
        }
        guard ferror(file) == 0 else { return nil }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(ok == 1 && length == 32, "libcrypto's SHA-256 did not finish")
        return hex(digest.prefix(Int(length)))
    }

    private static func hex(_ digest: ArraySlice<UInt8>) -> String {
        digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
