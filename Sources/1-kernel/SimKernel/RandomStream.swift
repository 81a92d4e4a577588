public import CGSL

/// One named stream of random numbers: a GSL Mersenne Twister (MT19937) seeded from the run seed and
/// a stable hash of the stream's name.
///
/// Deriving each stream from its own name means adding a consumer never shifts another stream's draws
/// (the ns-3 approach). The seed is `StableHash.mix(runSeed ^ fnv1a(name))`; MT19937 keeps its low 32 bits.
public final class RandomStream {
    /// The stream's name, such as `traffic/chat/arrivals`.
    public let name: String
    /// The 64-bit seed derived from the run seed and the name.
    public let seed: UInt64
    @usableFromInline let generator: UnsafeMutablePointer<gsl_rng>

    /// Creates the stream `name` of the run seeded with `runSeed`.
    public init(name: String, runSeed: UInt64) {
        GSL.configure()
        self.name = name
        self.seed = RandomStream.derivedSeed(runSeed: runSeed, name: name)
        guard let generator = gsl_rng_alloc(infermesh_rng_mt19937()) else {
            fatalError("GSL could not allocate a generator (out of memory)")
        }
        self.generator = generator
        gsl_rng_set(generator, UInt(truncatingIfNeeded: seed))
    }

    deinit { gsl_rng_free(generator) }

    /// The seed of stream `name` in a run seeded with `runSeed`.
    public static func derivedSeed(runSeed: UInt64, name: String) -> UInt64 {
        StableHash.mix(runSeed ^ StableHash.fnv1a(name))
    }

    /// A uniform draw in [0, 1).
    @inlinable public func uniform() -> Double { gsl_rng_uniform(generator) }

    /// A uniform integer in 0..<n (`n` > 0), without modulo bias.
    @inlinable public func integer(below n: Int) -> Int {
        precondition(n > 0)
        // gsl_rng_uniform_int accepts n up to the generator's range, 2^32 - 1 for MT19937.
        if n <= 0xffff_ffff { return Int(gsl_rng_uniform_int(generator, UInt(n))) }
        // Larger n: two 32-bit outputs make a uniform 64-bit word; reject the 2^64 mod n lowest words.
        let limit = UInt64(n), threshold = (0 &- limit) % limit
        while true {
            let word = UInt64(gsl_rng_get(generator)) << 32 | UInt64(gsl_rng_get(generator))
            if word >= threshold { return Int(word % limit) }
        }
    }

    /// An exponential draw with the given mean.
    @inlinable @inline(__always) public func exponential(mean: Double) -> Double {
        gsl_ran_exponential(generator, mean)
    }

    /// A draw from `distribution`.
    @inlinable public func sample(_ distribution: Distribution) -> Double { distribution.sample(generator) }
}

/// Creates the named streams of one run and keeps them alive for it.
public final class RandomStreams {
    /// The run seed every stream is derived from.
    public let runSeed: UInt64
    private var created: [String: RandomStream] = [:]

    public init(runSeed: UInt64) { self.runSeed = runSeed }

    /// The stream called `name`, created on first use. Asking twice returns the same stream.
    public func stream(_ name: String) -> RandomStream {
        if let existing = created[name] { return existing }
        let stream = RandomStream(name: name, runSeed: runSeed)
        created[name] = stream
        return stream
    }

    /// The names of the streams created so far, sorted (for reports; dictionary order never leaks).
    public var names: [String] { created.keys.sorted() }
}

/// Process-wide GSL set-up, done once before the first call into GSL.
public enum GSL {
    private static let configured: Void = infermesh_gsl_disable_abort()

    /// Turns off GSL's abort-on-error handler (idempotent, thread-safe). Inputs are validated before any
    /// GSL call, so a GSL error is a bug; with the handler off it surfaces as NaN instead of killing the process.
    public static func configure() { _ = configured }
}
