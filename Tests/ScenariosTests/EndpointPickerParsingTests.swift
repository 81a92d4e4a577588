import Fleet
import Scenarios
import Testing

/// The `router` and `endpoint-picker` blocks: read as an EndpointPickerConfig, every mistake located.
@Suite struct EndpointPickerParsingTests {
    static let head = """
        horizon: 1m
        pools: [{name: p, replicas: 2, station: {servers: 1, service: {dist: constant, value: 1s}}}]
        workloads: [{name: w, rate: 1/s}]

        """

    static let picker = """
        router: {refresh-interval: 25ms, metrics-staleness: 1s}
        endpoint-picker:
          plugins:
            - type: queue-scorer
            - type: prefix-cache-scorer
              name: precise-prefix
              parameters: {mode: precise, maxPrefixBlocksToMatch: 128}
            - type: weighted-random-picker
          schedulingProfiles:
            - name: my-aware
              plugins:
                - {pluginRef: queue-scorer, weight: 1.5}
                - {pluginRef: precise-prefix, weight: 4}
                - {pluginRef: weighted-random-picker}
        policies: [round-robin, my-aware]
        """

    static func error(_ text: String) -> String {
        do {
            _ = try ScenarioLoader.parse(text.hasPrefix(head) ? text : head + text, file: "t.yaml")
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func aProfileBecomesAPolicy() throws {
        let scenario = try ScenarioLoader.parse(Self.head + Self.picker, file: "t.yaml")
        #expect(scenario.policies == ["round-robin", "my-aware"])
        #expect(scenario.fleet.router == RouterSpec(refreshInterval: .milliseconds(25), metricsStaleness: .seconds(1)))
        let config = try #require(scenario.fleet.endpointPicker)
        #expect(config.plugins.map(\.name) == ["queue-scorer", "precise-prefix", "weighted-random-picker"])
        #expect(config.plugins[1].parameters.values["mode"] == .text("precise"))
        #expect(config.plugins[1].parameters.values["maxPrefixBlocksToMatch"] == .number(128))
        #expect(config.schedulingProfiles[0].plugins.map(\.weight) == [1.5, 4, 1])
        let entry = try #require(scenario.fleet.policyEntry(named: "my-aware"))
        let policy = entry.make(PolicyContext(streams: RandomStreams(runSeed: 1), pool: "p", policy: "my-aware"))
        #expect(policy.needs == PolicyNeeds(metrics: true, prefix: PrefixMatching(knowledge: .precise, maxBlocks: 128)))
        // Without `policies`, a run compares every registered policy and every profile.
        let all = try ScenarioLoader.parse(
            Self.head + Self.picker.replacingOccurrences(of: "policies: [round-robin, my-aware]", with: ""),
            file: "t.yaml")
        #expect(all.policies == PolicyRegistry.names + ["my-aware"])
    }

    @Test(arguments: [
        (
            "type: queue-scorer", "type: queue-scorr",
            "t.yaml:7:13: error: at endpoint-picker.plugins[0].type: unknown plugin type `queue-scorr`; did you mean `queue-scorer`?; known: queue-scorer, kv-cache-utilization-scorer, prefix-cache-scorer, active-request-scorer, prefill-backlog-scorer, load-aware-scorer, running-requests-size-scorer, session-affinity-scorer, network-cost-scorer, lora-affinity-scorer, low-queue, least-queue, least-kv-cache, fresh-metrics-filter, max-score-picker, random-picker, weighted-random-picker"
        ),
        (
            "mode: precise,", "mode: psychic,",
            "t.yaml:10:26: error: at endpoint-picker.plugins[1].parameters.mode: prefix-cache-scorer: expected one of approximate, precise"
        ),
        (
            "maxPrefixBlocksToMatch: 128", "maxPrefixBlocksToMatch: 0",
            "t.yaml:10:59: error: at endpoint-picker.plugins[1].parameters.maxPrefixBlocksToMatch: prefix-cache-scorer: expected a number in 1...1048576"
        ),
        (
            "{pluginRef: weighted-random-picker}", "{pluginRef: weighted-random-picker, weight: 2}",
            "t.yaml:17:55: error: at endpoint-picker.schedulingProfiles[0].plugins[2].weight: only scorers take a `weight`"
        ),
        (
            "{pluginRef: precise-prefix, weight: 4}", "{pluginRef: precise-prefx, weight: 4}",
            "t.yaml:16:23: error: at endpoint-picker.schedulingProfiles[0].plugins[1].pluginRef: no plugin named `precise-prefx` under `plugins`; did you mean `precise-prefix`?"
        ),
        (
            "- name: my-aware", "- name: inference-aware",
            "t.yaml:13:13: error: at endpoint-picker.schedulingProfiles[0].name: profile name `inference-aware` is a built-in policy; choose another name for your profile"
        ),
        (
            "policies: [round-robin, my-aware]", "policies: [round-robin, my-awar]",
            "t.yaml:18:25: error: at policies[1]: unknown policy `my-awar`; did you mean `my-aware`?"
        ),
        (
            "refresh-interval: 25ms", "refresh-interval: soon",
            "t.yaml:4:28: error: at router.refresh-interval: expected a duration with a unit (ns, us, ms, s, m, h), like 250ms or 2s, found \"soon\""
        ),
    ])
    func mistakesAreLocated(original: String, replacement: String, expected: String) {
        #expect(Self.error(Self.picker.replacingOccurrences(of: original, with: replacement)) == expected)
    }

    @Test func flowControlAndTheSaturationDetectorAreRead() throws {
        let text =
            Self.head + """
                router:
                  decision-time: 2ms
                  saturation-detector: {queue-depth-threshold: 8, kv-cache-util-threshold: 0.9}
                  flow-control: {max-queue: 500, max-wait: 30s}
                  endpoint-pickers: 3
                """
        let router = try ScenarioLoader.parse(text, file: "t.yaml").fleet.router
        #expect(router.decisionTime == .milliseconds(2))
        #expect(router.endpointPickers == 3)
        #expect(try ScenarioLoader.parse(Self.head, file: "t.yaml").fleet.router.endpointPickers == 1)
        #expect(
            Self.error(text.replacingOccurrences(of: "endpoint-pickers: 3", with: "endpoint-pickers: 0"))
                == "t.yaml:8:21: error: at router.endpoint-pickers: expected a positive integer, found 0")
        #expect(router.saturation == SaturationDetectorSpec(queueDepthThreshold: 8, kvCacheUtilThreshold: 0.9))
        #expect(router.flowControl == FlowControlSpec(maxQueue: 500, maxWait: .seconds(30)))
        #expect(try ScenarioLoader.parse(Self.head, file: "t.yaml").fleet.router.flowControl == nil)
        #expect(
            Self.error(
                text.replacingOccurrences(of: "kv-cache-util-threshold: 0.9", with: "kv-cache-util-threshold: 90"))
                == "t.yaml:6:76: error: at router.saturation-detector.kv-cache-util-threshold: expected a fraction in (0, 1], found 90"
        )
    }

    @Test func twoPickersInOneProfileAreRefused() {
        let text = Self.picker.replacingOccurrences(
            of: "- {pluginRef: weighted-random-picker}",
            with: "- {pluginRef: weighted-random-picker}\n        - {pluginRef: weighted-random-picker}")
        #expect(
            Self.error(text).contains(
                "t.yaml:18:11: error: at endpoint-picker.schedulingProfiles[0].plugins[3]: a profile has one picker (first at 17:11)"
            ))
    }
}
