/// Hashes whose values never change between processes, platforms or Swift versions.
///
/// Swift's `Hasher` is randomly seeded per process, so it must never reach seeds or digests.
public enum StableHash {
    /// 64-bit FNV-1a over the UTF-8 bytes of `text`.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// The SplitMix64 finalizer: a bijection on 64 bits with full avalanche.
    @inlinable public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// An order-sensitive 64-bit digest of a run: every processed event and every final result is mixed in.
///
/// Two runs with the same scenario, seed and version must produce the same digest, byte for byte.
public struct RunDigest: Hashable, Sendable, CustomStringConvertible {
    /// The current digest value.
    public var value: UInt64 { state }
    @usableFromInline var state: UInt64

    public init(value: UInt64 = 0x1f83_d9ab_fb41_bd6b) { self.state = value }

    /// Mixes one word into the digest.
    @inlinable public mutating func mix(_ word: UInt64) {
        state = StableHash.mix(state ^ word) &+ 0x2545_f491_4f6c_dd1d
    }

    @inlinable public mutating func mix(_ word: Int64) { mix(UInt64(bitPattern: word)) }
    @inlinable public mutating func mix(_ time: SimTime) { mix(time.nanoseconds) }
    /// Mixes a double by its exact bit pattern.
    @inlinable public mutating func mix(_ number: Double) { mix(number.bitPattern) }
    public mutating func mix(_ text: String) { mix(StableHash.fnv1a(text)) }

    /// The digest as 16 lowercase hex digits, as stored in the results database.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public var description: String { hex }
}
