import Scenarios
import Testing

/// Every distribution form maps to the intended `Distribution`, and each malformed one is refused where it is.
@Suite struct DistributionTests {
    /// The service-time distribution of the template with `service:` set to `yaml`.
    static func service(_ yaml: String) throws -> Distribution {
        let text = Support.scenario(["{dist: exponential, mean: 1s}": yaml])
        let scenario = try ScenarioLoader.parse(text, file: "t.yaml")
        guard case .station(let station) = scenario.fleet.pools[0].replica else { throw Failure() }
        return station.serviceSeconds
    }

    /// The input-token distribution of the template's workload with `input-tokens:` set to `yaml`.
    static func tokens(_ yaml: String) throws -> Distribution {
        let text = Support.scenario(["rate: 20/s": "rate: 20/s\n    input-tokens: \(yaml)"])
        return try ScenarioLoader.parse(text, file: "t.yaml").fleet.workloads[0].inputTokens
    }

    struct Failure: Error {}

    @Test func durationForms() throws {
        #expect(try Self.service("1s") == .constant(1))
        #expect(try Self.service("250ms") == .constant(0.25))
        #expect(try Self.service("{dist: constant, value: 2s}") == .constant(2))
        #expect(try Self.service("{dist: exponential, mean: 400ms}") == .exponential(mean: 0.4))
        #expect(try Self.service("{dist: gamma, mean: 1s, cv: 2}") == .gamma(mean: 1, cv: 2))
        #expect(try Self.service("{dist: gamma, shape: 2, scale: 500ms}") == .gamma(shape: 2, scale: 0.5))
        #expect(try Self.service("{dist: lognormal, mean: 400ms, cv: 1.5}") == .lognormal(mean: 0.4, cv: 1.5))
        #expect(try Self.service("{dist: lognormal, mu: -1, sigma: 0.5}") == .lognormal(mu: -1, sigma: 0.5))
        #expect(try Self.service("{dist: weibull, mean: 1s, cv: 0.5}") == .weibull(mean: 1, cv: 0.5))
        #expect(try Self.service("{dist: weibull, shape: 1.5, scale: 2s}") == .weibull(scale: 2, shape: 1.5))
        #expect(try Self.service("{dist: pareto, shape: 2.5, scale: 100ms}") == .pareto(shape: 2.5, scale: 0.1))
        #expect(
            try Self.service("{dist: normal, mean: 1s, sd: 200ms}")
                == .truncatedNormal(mean: 1, sd: 0.2, lower: 0, upper: .infinity))
        #expect(
            try Self.service("{dist: normal, mean: 1s, sd: 200ms, min: 500ms, max: 2s}")
                == .truncatedNormal(mean: 1, sd: 0.2, lower: 0.5, upper: 2))
        #expect(try Self.service("{dist: uniform, min: 100ms, max: 300ms}") == .uniform(lower: 0.1, upper: 0.3))
        #expect(try Self.service("{dist: uniform, min: 0, max: 1s}") == .uniform(lower: 0, upper: 1))
        #expect(
            try Self.service("{dist: empirical, values: [1s, 2s]}")
                == .empirical(try #require(EmpiricalTable(values: [1, 2]))))
    }

    @Test func tokenForms() throws {
        #expect(try Self.tokens("250") == .constant(250))
        #expect(try Self.tokens("0") == .constant(0))
        #expect(try Self.tokens("{dist: constant, value: 0}") == .constant(0))
        #expect(try Self.tokens("{dist: exponential, mean: 100}") == .exponential(mean: 100))
        #expect(try Self.tokens("{dist: lognormal, mean: 225, cv: 1.0}") == .lognormal(mean: 225, cv: 1))
        #expect(try Self.tokens("{dist: lognormal, mu: 5.2, sigma: 0.8}") == .lognormal(mu: 5.2, sigma: 0.8))
        #expect(try Self.tokens("{dist: gamma, shape: 2, scale: 50}") == .gamma(shape: 2, scale: 50))
        #expect(try Self.tokens("{dist: poisson, mean: 40}") == .poisson(mean: 40))
        #expect(
            try Self.tokens("{dist: normal, mean: 100, sd: 20, min: 1, max: 500}")
                == .truncatedNormal(mean: 100, sd: 20, lower: 1, upper: 500))
        #expect(try Self.tokens("{dist: uniform, min: 10, max: 20}") == .uniform(lower: 10, upper: 20))
        #expect(try Self.tokens("{dist: pareto, shape: 1.5, scale: 64}") == .pareto(shape: 1.5, scale: 64))
        #expect(
            try Self.tokens("{dist: empirical, values: [100, 200], weights: [3, 1]}")
                == .empirical(try #require(EmpiricalTable(values: [100, 200], weights: [3, 1]))))
    }

    /// (value of `service:`, path of the error, start of its message)
    @Test(arguments: [
        (
            "exponential", "pools[0].station.service",
            "expected a duration like 1s or a mapping like {dist: exponential, mean: 1s}, found \"exponential\""
        ),
        ("0", "pools[0].station.service", "expected a duration > 0, found 0"),
        ("5", "pools[0].station.service", "expected a duration > 0 with a unit"),
        ("[1s]", "pools[0].station.service", "expected a duration like 1s or a mapping"),
        (
            "{mean: 1s}", "pools[0].station.service",
            "missing required key `dist` (one of: constant, exponential, gamma, lognormal, weibull, pareto, normal, uniform, empirical)"
        ),
        (
            "{dist: exponental, mean: 1s}", "pools[0].station.service.dist",
            "unknown distribution `exponental`; did you mean `exponential`?"
        ),
        (
            "{dist: poisson, mean: 1s}", "pools[0].station.service.dist",
            "`poisson` draws whole numbers and is for token counts only"
        ),
        ("{dist: exponential}", "pools[0].station.service", "missing required key `mean` (a duration > 0, like 1s)"),
        ("{dist: exponential, mean: 0s}", "pools[0].station.service.mean", "expected a duration > 0, found \"0s\""),
        ("{dist: exponential, mean: 1}", "pools[0].station.service.mean", "expected a duration > 0 with a unit"),
        (
            "{dist: exponential, mean: 1s, cv: 2}", "pools[0].station.service.cv",
            "unknown key `cv` for `dist: exponential`; expected one of: dist, mean"
        ),
        (
            "{dist: normal, mean: 1s, std: 100ms}", "pools[0].station.service.std",
            "unknown key `std`; did you mean `sd`?"
        ),
        ("{dist: constant, value: 0s}", "pools[0].station.service.value", "expected a duration > 0"),
        ("{dist: gamma, mean: 1s}", "pools[0].station.service", "missing required key `cv` (a number > 0)"),
        (
            "{dist: gamma, mean: 1s, cv: 2, shape: 3}", "pools[0].station.service.shape",
            "gamma takes either `mean` and `cv`, or `shape` and `scale`, not a mix"
        ),
        ("{dist: gamma, cv: 0, mean: 1s}", "pools[0].station.service.cv", "expected a number > 0, found 0"),
        ("{dist: gamma, mean: 1s, cv: -1}", "pools[0].station.service.cv", "expected a number > 0, found -1"),
        (
            "{dist: gamma, mean: 1s, cv: 1e200}", "pools[0].station.service",
            "these parameters give a degenerate distribution"
        ),
        (
            "{dist: gamma}", "pools[0].station.service",
            "missing parameters: gamma takes `mean` and `cv`, or `shape` and `scale`"
        ),
        ("{dist: lognormal, mu: 1, sigma: -1}", "pools[0].station.service.sigma", "expected a number > 0, found -1"),
        (
            "{dist: lognormal, mu: .inf, sigma: 1}", "pools[0].station.service.mu",
            "expected a finite number, found .inf"
        ),
        (
            "{dist: lognormal, mean: 1s, cv: 1e400}", "pools[0].station.service.cv",
            "expected a finite number, found 1e400"
        ),
        (
            "{dist: weibull, mean: 1s, cv: 1000}", "pools[0].station.service.cv",
            "expected a cv in 0.02...100 for weibull, found 1000"
        ),
        (
            "{dist: weibull, shape: 0.001, scale: 1s}", "pools[0].station.service.shape",
            "expected a number >= 0.02, found 0.001"
        ),
        ("{dist: pareto, shape: 0, scale: 1s}", "pools[0].station.service.shape", "expected a number > 0, found 0"),
        ("{dist: pareto, shape: 2}", "pools[0].station.service", "missing required key `scale`"),
        ("{dist: normal, mean: 1s, sd: 0s}", "pools[0].station.service.sd", "expected a duration > 0"),
        (
            "{dist: normal, mean: 1s, sd: 100ms, min: 5s}", "pools[0].station.service.min",
            "the interval [min, max] lies 30 or more standard deviations above the mean"
        ),
        (
            "{dist: normal, mean: 10s, sd: 100ms, max: 1s}", "pools[0].station.service.max",
            "the interval [min, max] lies 30 or more standard deviations below the mean"
        ),
        (
            "{dist: normal, mean: 1s, sd: 1s, min: 2s, max: 1s}", "pools[0].station.service.max",
            "expected max > min (2s), found \"1s\""
        ),
        ("{dist: uniform, min: 2s, max: 1s}", "pools[0].station.service.max", "expected max > min (2s), found \"1s\""),
        ("{dist: uniform, min: 1s}", "pools[0].station.service", "missing required key `max`"),
        (
            "{dist: empirical, values: []}", "pools[0].station.service.values",
            "expected a non-empty list of durations, found a list"
        ),
        (
            "{dist: empirical, values: [0s, 0]}", "pools[0].station.service.values",
            "expected at least one duration > 0, found only zeros"
        ),
        (
            "{dist: empirical, values: [1s, 2s], weights: [1]}", "pools[0].station.service.weights",
            "expected 2 weights (one per value), found 1"
        ),
        (
            "{dist: empirical, values: [1s], weights: [0]}", "pools[0].station.service.weights",
            "expected weights with a positive, finite sum, found a sum of 0.0"
        ),
        (
            "{dist: empirical, values: [1s, 2s], weights: [1, -1]}", "pools[0].station.service.weights[1]",
            "expected a number >= 0, found -1"
        ),
        (
            "{dist: empirical, values: [1s, 2s], weights: [1e308, 1e308]}", "pools[0].station.service.weights",
            "expected weights with a positive, finite sum"
        ),
        (
            "{dist: empirical, values: [1s, fast]}", "pools[0].station.service.values[1]",
            "expected a duration with a unit"
        ),
        ("{dist: [exponential], mean: 1s}", "pools[0].station.service.dist", "expected one of: constant"),
    ])
    func durationRejects(_ yaml: String, _ path: String, _ message: String) {
        let error = Support.error(Support.scenario(["{dist: exponential, mean: 1s}": yaml]))
        #expect(error?.path == path)
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error")")
    }

    @Test(arguments: [
        ("-5", "workloads[0].input-tokens", "expected a number >= 0, found -5"),
        (
            "many", "workloads[0].input-tokens",
            "expected a number like 250 or a mapping like {dist: lognormal, mean: 225, cv: 1.0}, found \"many\""
        ),
        ("250ms", "workloads[0].input-tokens", "expected a number like 250 or a mapping"),
        (".nan", "workloads[0].input-tokens", "expected a finite number, found .nan"),
        ("{dist: constant, value: -1}", "workloads[0].input-tokens.value", "expected a number >= 0, found -1"),
        ("{dist: poisson, mean: 0}", "workloads[0].input-tokens.mean", "expected a number > 0, found 0"),
        (
            "{dist: lognormal, mean: 225, cv: .inf}", "workloads[0].input-tokens.cv",
            "expected a finite number, found .inf"
        ),
        ("{dist: uniform, min: -1, max: 5}", "workloads[0].input-tokens.min", "expected a number >= 0, found -1"),
        (
            "{dist: normal, mean: 100, sd: 10, min: 50, max: 20}", "workloads[0].input-tokens.max",
            "expected max > min (50), found 20"
        ),
        (
            "{dist: normal, mean: 100, sd: 10, max: 0}", "workloads[0].input-tokens.max",
            "expected max > min (0), found 0"
        ),
        (
            "{dist: empirical, values: [1, two]}", "workloads[0].input-tokens.values[1]",
            "expected a number >= 0, found \"two\""
        ),
        (
            "{dist: poisson, mean: 40, cv: 1}", "workloads[0].input-tokens.cv",
            "unknown key `cv` for `dist: poisson`; expected one of: dist, mean"
        ),
    ])
    func tokenRejects(_ yaml: String, _ path: String, _ message: String) {
        let error = Support.error(Support.scenario(["rate: 20/s": "rate: 20/s\n    input-tokens: \(yaml)"]))
        #expect(error?.path == path)
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error")")
    }

    @Test func arrivals() throws {
        func arrival(_ yaml: String) throws -> ArrivalProcess {
            try ScenarioLoader.parse(
                Support.scenario(["rate: 20/s": "rate: 20/s\n    arrival: \(yaml)"]), file: "t.yaml"
            )
            .fleet.workloads[0].arrival
        }
        #expect(try arrival("poisson") == .poisson)
        #expect(try arrival("deterministic") == .deterministic)
        #expect(try arrival("{process: poisson}") == .poisson)
        #expect(try arrival("{process: gamma, cv: 2.0}") == .gamma(cv: 2))
        #expect(try arrival("{process: weibull, cv: 0.5}") == .weibull(cv: 0.5))
        let rejects: [(String, String, String)] = [
            ("gamma", "workloads[0].arrival", "`gamma` arrivals need a cv; write {process: gamma, cv: 2.0}"),
            ("{process: gamma}", "workloads[0].arrival", "missing required key `cv` (a number > 0)"),
            ("{process: gamma, cv: 0}", "workloads[0].arrival.cv", "expected a number > 0, found 0"),
            (
                "{process: poisson, cv: 2}", "workloads[0].arrival.cv",
                "`cv` applies only to gamma and weibull arrivals, not poisson"
            ),
            (
                "{process: weibull, cv: 500}", "workloads[0].arrival.cv",
                "expected a cv in 0.02...100 for weibull, found 500"
            ),
            (
                "{process: bursty, cv: 2}", "workloads[0].arrival.process",
                "unknown arrival process `bursty`; expected one of: poisson, gamma, weibull, deterministic, on-off, mmpp"
            ),
            (
                "{process: gamma, cv: 2, shape: 1}", "workloads[0].arrival.shape",
                "unknown key `shape`; expected one of: process, cv"
            ),
            (
                "{process: gamma, cv: 1e-300}", "workloads[0].arrival",
                "this process at rate 20/s gives a degenerate gap distribution"
            ),
        ]
        for (yaml, path, message) in rejects {
            let error = Support.error(Support.scenario(["rate: 20/s": "rate: 20/s\n    arrival: \(yaml)"]))
            #expect(error?.path == path, "\(yaml)")
            #expect(error?.message.hasPrefix(message) == true, "\(yaml): \(error?.message ?? "no error")")
        }
    }
}
