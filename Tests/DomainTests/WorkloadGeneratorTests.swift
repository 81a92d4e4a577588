import Fleet
import Testing

/// Workload features beyond a constant rate: a linear Poisson ramp, prefix groups, truncated lengths.
@Suite struct WorkloadGeneratorTests {
    /// A ramp from 3/s to 60/s over 1,000 s offers ∫ = 31,500 arrivals, 8,625 of them in the first half.
    /// Poisson counts: standard deviations 177 and 93, so ±2% and ±4% are more than 3.5 of them.
    @Test func aLinearRampOffersTheIntegralOfItsRate() {
        var spec = WorkloadSpec(name: "ramp", ratePerSecond: 3, pool: "p")
        spec.rampToRatePerSecond = 60
        let generator = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: 5), horizon: .seconds(1_000))
        var now = SimTime.zero, total = 0, firstHalf = 0
        while true {
            now = now + generator.nextGap(at: now)
            guard now < .seconds(1_000) else { break }
            total += 1
            if now < .seconds(500) { firstHalf += 1 }
        }
        #expect(abs(Double(total) / 31_500 - 1) < 0.02, "\(total)")
        #expect(abs(Double(firstHalf) / 8_625 - 1) < 0.04, "\(firstHalf)")
    }

    @Test func prefixGroupsGiveEachRequestOneOfTheGroupsPrefixes() {
        var spec = WorkloadSpec(name: "docs", ratePerSecond: 1, inputTokens: .constant(1_200), pool: "p")
        spec.prefixGroups = WorkloadSpec.PrefixGroups(count: 150, tokens: 6_000)
        let generator = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: 2))
        var keys = Set<UInt64>()
        for _ in 0..<5_000 {
            let request = generator.nextRequest()
            #expect(request.input == 7_200 && request.prefix?.tokens == 6_000)
            if case .keyed(let key) = request.prefix?.content { keys.insert(key) }
        }
        // 5,000 uniform draws over 150 groups miss a given group with probability (149/150)^5000 ≈ 3e-15.
        #expect(keys.count == 150)
    }

    @Test func capsTruncateTheLengthDistribution() {
        var spec = WorkloadSpec(
            name: "chat", ratePerSecond: 1, inputTokens: .lognormal(mean: 250, cv: 1.5),
            outputTokens: .lognormal(mean: 225, cv: 1.5), pool: "p")
        spec.maxInputTokens = 1_024
        spec.maxOutputTokens = 1_024
        let generator = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: 3))
        let draws = (0..<20_000).map { _ in generator.nextRequest() }
        #expect(draws.allSatisfy { $0.input <= 1_024 && $0.output <= 1_024 && $0.output >= 1 })
        // Truncation, not clipping: no pile-up at the cap (a clipped lognormal with CV 1.5 would put ~3% there).
        #expect(draws.filter { $0.input == 1_024 }.count < 40)
        let mean = Double(draws.reduce(0) { $0 + $1.input }) / 20_000
        #expect(mean < 250 && mean > 150)
    }
}
