import Testing

@testable import Scenarios

/// Durations, rates and bandwidths: exact conversion, and every malformed spelling refused with the right reason.
@Suite struct UnitsTests {
    static let durationCases: [(String, Int64)] = [
        ("0", 0), ("0s", 0), ("1ns", 1), ("1us", 1_000), ("250ms", 250_000_000), ("2s", 2_000_000_000),
        ("1.5s", 1_500_000_000), ("0.25ms", 250_000), ("10m", 600_000_000_000), ("1h", 3_600_000_000_000),
        ("1.5h", 5_400_000_000_000), ("007s", 7_000_000_000),
        // Rounded to the nearest nanosecond, half up, with no floating point on the way.
        ("0.4ns", 0), ("0.5ns", 1), ("1.0000000005s", 1_000_000_001), ("0.1s", 100_000_000),
        ("0.333333333333333333333333h", 1_200_000_000_000),
        // The largest representable duration, exactly.
        ("9223372036.854775807s", Int64.max), ("2562047h", 2_562_047 * 3_600_000_000_000),
    ]

    @Test(arguments: durationCases)
    func durations(_ text: String, _ nanoseconds: Int64) {
        #expect(Units.duration(text) == .value(SimTime(nanoseconds: nanoseconds)))
    }

    static let durationRejectCases: [(String, Units.DurationOutcome)] = [
        ("5", .missingUnit), ("1.5", .missingUnit), ("5 parsecs", .malformed),
        ("-1s", .negative), ("-0.5ms", .negative), ("1e400s", .malformed), ("1e3s", .malformed), ("s", .malformed),
        ("1.s", .malformed), (".5s", .malformed), ("1,5s", .malformed), ("10 s", .malformed), ("10S", .malformed),
        ("10sec", .malformed), ("", .malformed), ("9223372036.854775808s", .tooLarge), ("2562048h", .tooLarge),
        ("99999999999999999999999s", .tooLarge), ("0x10s", .malformed),
    ]

    @Test(arguments: durationRejectCases)
    func durationRejects(_ text: String, _ outcome: Units.DurationOutcome) {
        #expect(Units.duration(text) == outcome)
    }

    static let rateCases: [(String, Double)] = [
        ("20/s", 20.0), ("1200/m", 20.0), ("3/h", 3.0 / 3600), ("0.5/s", 0.5), ("6.4/s", 6.4), ("0/s", 0.0),
        ("1000000000/s", 1e9),
    ]

    @Test(arguments: rateCases)
    func rates(_ text: String, _ perSecond: Double) {
        #expect(Units.rate(text) == .perSecond(perSecond))
    }

    static let rateRejectCases: [(String, Units.RateOutcome)] = [
        ("20", .missingUnit), ("20/min", .malformed), ("20/", .malformed), ("/s", .malformed),
        ("-5/s", .negative), ("1e3/s", .malformed), ("20 /s", .malformed), ("2000000000/s", .tooLarge),
        ("20/s/s", .malformed), ("", .malformed),
    ]

    @Test(arguments: rateRejectCases)
    func rateRejects(_ text: String, _ outcome: Units.RateOutcome) {
        #expect(Units.rate(text) == outcome)
    }

    @Test func integersAndNumbers() {
        #expect(Units.integer("42") == .value(negative: false, magnitude: 42))
        #expect(Units.integer("-3") == .value(negative: true, magnitude: 3))
        #expect(Units.integer("18446744073709551615") == .value(negative: false, magnitude: .max))
        #expect(Units.integer("18446744073709551616") == .tooLarge(negative: false))
        #expect(Units.integer("4.0") == .notAnInteger)
        #expect(Units.integer("0x10") == .notAnInteger)
        #expect(Units.integer("1_000") == .notAnInteger)
        #expect(Units.number("2.5") == .value(2.5))
        #expect(Units.number("-1e3") == .value(-1000))
        #expect(Units.number(".5") == .value(0.5))
        #expect(Units.number("1e400") == .notFinite)
        #expect(Units.number(".nan") == .notFinite)
        #expect(Units.number("-.inf") == .notFinite)
        #expect(Units.number("nan") == .notANumber)
        #expect(Units.number("0x1p3") == .notANumber)
        #expect(Units.number("1s") == .notANumber)
    }

    static let bandwidthCases: [(String, Units.BandwidthOutcome)] = [
        ("10Gbps", .bitsPerSecond(10e9)), ("400Mbps", .bitsPerSecond(400e6)), ("1e9bps", .bitsPerSecond(1e9)),
        ("2.5Kbps", .bitsPerSecond(2500)), ("64kbps", .bitsPerSecond(64_000)), ("1Tbps", .bitsPerSecond(1e12)),
        ("0bps", .bitsPerSecond(0)), ("10", .missingUnit), ("-1Gbps", .negative), ("10 Gbps", .malformed),
        ("10GBps", .malformed), ("Gbps", .malformed), ("10gbps", .malformed), ("1e400bps", .notFinite),
    ]

    @Test(arguments: bandwidthCases)
    func bandwidths(_ text: String, _ outcome: Units.BandwidthOutcome) {
        #expect(Units.bandwidth(text) == outcome)
    }

    /// Through the loader: the reader's messages for the same rejects.
    @Test func throughTheLoader() {
        let zero = try? ScenarioLoader.parse(Support.scenario(["warmup: 1m": "warmup: 0"]), file: "t.yaml")
        #expect(zero?.fleet.warmup == .zero, "a bare 0 is a valid warmup")
        #expect(
            Support.error(Support.scenario(["warmup: 1m": "warmup: 5"]))?.message
                == "expected a duration with a unit (ns, us, ms, s, m, h), like 250ms or 2s, found 5")
        #expect(
            Support.error(Support.scenario(["horizon: 10m": "horizon: 0s"]))?.message
                == "expected a duration > 0, found \"0s\"")
        #expect(
            Support.error(Support.scenario(["horizon: 10m": "horizon: -1s"]))?.message
                == "expected a positive duration, found \"-1s\"")
        #expect(Support.error(Support.scenario(["rate: 20/s": "rate: -5/s"]))?.path == "workloads[0].rate")
        #expect(Support.error(Support.scenario(["rate: 20/s": "rate: 2e9/s"]))?.path == "workloads[0].rate")
        #expect(
            Support.error(Support.scenario(["rate: 20/s": "rate: 2000000000/s"]))?.message
                == "expected a rate of at most 1e9/s (arrival gaps are counted in nanoseconds), found \"2000000000/s\"")
    }
}
