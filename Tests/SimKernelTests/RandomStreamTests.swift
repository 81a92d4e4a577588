import SimKernel
import Testing

private func draws(_ stream: RandomStream, _ n: Int = 1_000) -> [Double] {
    (0..<n).map { _ in stream.uniform() }
}

@Suite("RandomStream")
struct RandomStreamTests {
    @Test("same name and seed give the same sequence")
    func reproducible() {
        let a = RandomStream(name: "traffic/chat/arrivals", runSeed: 42)
        let b = RandomStream(name: "traffic/chat/arrivals", runSeed: 42)
        #expect(a.seed == b.seed)
        #expect(draws(a) == draws(b))
    }

    @Test("different names give different sequences")
    func namesDiffer() {
        let names = ["a", "b", "traffic/chat/arrivals", "traffic/chat/arrival", "traffic/code/arrivals", ""]
        let firstDraws = names.map { draws(RandomStream(name: $0, runSeed: 42), 8) }
        #expect(Set(firstDraws.map { $0.description }).count == names.count)
        // Elementwise too: two streams should essentially never agree on a draw.
        for i in firstDraws.indices {
            for j in firstDraws.indices where i < j {
                #expect(zip(firstDraws[i], firstDraws[j]).allSatisfy { $0 != $1 }, "\(names[i]) vs \(names[j])")
            }
        }
    }

    @Test("different run seeds give different sequences for the same name")
    func seedsDiffer() {
        let seeds: [UInt64] = [0, 1, 2, 42, 1 << 32, .max]
        let firstDraws = seeds.map { draws(RandomStream(name: "x", runSeed: $0), 8) }
        #expect(Set(firstDraws.map { $0.description }).count == seeds.count)
    }

    @Test("creating and using other streams does not change a stream's draws")
    func streamsAreIndependentOfEachOther() {
        let alone = RandomStreams(runSeed: 9)
        let expected = draws(alone.stream("serving/r0"), 500)

        let crowded = RandomStreams(runSeed: 9)
        let noise1 = crowded.stream("traffic/a")
        _ = draws(noise1, 37)
        let target = crowded.stream("serving/r0")
        var got: [Double] = []
        for i in 0..<500 {
            got.append(target.uniform())
            // Interleave draws from other streams, some created mid-way.
            _ = crowded.stream("routing/\(i % 5)").uniform()
            _ = noise1.exponential(mean: 2)
        }
        #expect(got == expected)
    }

    @Test("RandomStreams.stream returns the same instance for the same name")
    func sameInstance() {
        let streams = RandomStreams(runSeed: 3)
        let a = streams.stream("s")
        let first = a.uniform()
        let b = streams.stream("s")
        #expect(a === b)
        #expect(streams.stream("t") !== a)
        // The second lookup continues the sequence rather than restarting it.
        let fresh = RandomStream(name: "s", runSeed: 3)
        #expect(fresh.uniform() == first)
        #expect(b.uniform() == fresh.uniform())
        #expect(streams.names == ["s", "t"])
        #expect(streams.runSeed == 3)
    }

    @Test("names are reported sorted")
    func namesSorted() {
        let streams = RandomStreams(runSeed: 1)
        for name in ["zeta", "alpha", "mid/b", "mid/a"] { _ = streams.stream(name) }
        #expect(streams.names == ["alpha", "mid/a", "mid/b", "zeta"])
    }

    @Test("derivedSeed and the first draws are pinned")
    func pinnedSeedAndDraws() {
        // Computed independently in Python: splitmix64_finalizer(42 ^ fnv1a_64("traffic/chat/arrivals")).
        #expect(RandomStream.derivedSeed(runSeed: 42, name: "traffic/chat/arrivals") == 0x6df7_79ca_d1eb_bcd5)
        // The first MT19937 outputs for init_genrand(0xd1ebbcd5) (the seed's low 32 bits), from an independent
        // Python implementation of MT19937; gsl_rng_uniform is output / 2^32 exactly.
        let stream = RandomStream(name: "traffic/chat/arrivals", runSeed: 42)
        #expect(stream.seed == 0x6df7_79ca_d1eb_bcd5)
        let raw = (0..<3).map { _ in stream.uniform() * 4_294_967_296 }
        #expect(raw == [2_859_304_973, 3_259_164_597, 1_584_394_274])
    }

    @Test("uniform is in [0, 1) and integer(below:) is in range and roughly uniform")
    func ranges() {
        let stream = RandomStream(name: "ranges", runSeed: 5)
        #expect((0..<10_000).allSatisfy { _ in (0..<1).contains(stream.uniform()) })
        // 60,000 draws in 6 cells: expected 10,000 each, sd ≈ sqrt(10,000 · 5/6) ≈ 91; allow 5 sd = 456.
        var counts = [Int](repeating: 0, count: 6)
        var outOfRange = 0
        for _ in 0..<60_000 {
            let k = stream.integer(below: 6)
            if (0..<6).contains(k) { counts[k] += 1 } else { outOfRange += 1 }
        }
        #expect(outOfRange == 0)
        #expect(counts.allSatisfy { abs($0 - 10_000) < 456 }, "\(counts)")
        #expect((0..<100).allSatisfy { _ in stream.integer(below: 1) == 0 })
    }

    @Test("exponential(mean:) has the requested mean")
    func exponentialMean() {
        // n = 200,000, sd = mean = 2.5: standard error 2.5/sqrt(n) ≈ 0.0056; tolerance 5 SE ≈ 0.028.
        let stream = RandomStream(name: "exp", runSeed: 11)
        let n = 200_000
        var sum = 0.0
        for _ in 0..<n { sum += stream.exponential(mean: 2.5) }
        #expect(abs(sum / Double(n) - 2.5) < 5 * 2.5 / Double(n).squareRoot())
    }

    /// `integer(below:)` promises 0..<n for any n > 0, but MT19937's outputs span 2^32 values, and for n ≥ 2^32
    /// `gsl_rng_uniform_int` raises GSL_EINVAL. The abort handler is turned off, so it silently returns 0.
    @Test("integer(below:) with n of 2^32 or more")
    func integerBelowLargeN() {
        let stream = RandomStream(name: "large", runSeed: 1)
        let n = 1 << 40
        let values = (0..<100).map { _ in stream.integer(below: n) }
        #expect(values.allSatisfy { (0..<n).contains($0) })
        #expect(Set(values).count > 90, "100 draws from 2^40 values should be nearly all distinct")
    }
}
