import Testing

@testable import Scenarios

/// `session` and `autoscaler` blocks: read into their specs, every mistake located.
@Suite struct SessionParsingTests {
    static let sessions = Support.scenario(
        [
            "    rate: 20/s\n":
                "    rate: 0.1/s\n    session:\n      turns: 12\n      think-time: 500ms\n      affinity: true\n      connection: {request-timeout: 30s, idle-timeout: 0s}\n"
        ]
    )

    @Test func aSessionBlockIsRead() throws {
        let scenario = try ScenarioLoader.parse(Self.sessions, file: "t.yaml")
        let session = try #require(scenario.fleet.workloads[0].session)
        #expect(session.turns == .constant(12) && session.thinkTimeSeconds == .constant(0.5) && session.affinity)
        #expect(session.connection.requestTimeout == .seconds(30) && session.connection.idleTimeout == nil)
        #expect(session.fanOutProbability == AgentSessionSpec().fanOutProbability)
    }

    @Test func anAutoscalerIsRead() throws {
        let text = Support.scenario([
            "    replicas: 4\n":
                "    replicas: 4\n    autoscaler: {metric: kv_cache_usage_perc, target: 0.7, min-replicas: 2, max-replicas: 9, provisioning-delay: 2m}\n"
        ])
        let scaler = try #require(try ScenarioLoader.parse(text, file: "t.yaml").fleet.pools[0].autoscaler)
        #expect(scaler.metric == .kvCacheUsagePerc && scaler.target == 0.7)
        #expect(scaler.minReplicas == 2 && scaler.maxReplicas == 9 && scaler.provisioningDelay == .seconds(120))
        #expect(scaler.syncPeriod == .seconds(15) && scaler.scaleDownStabilization == .seconds(300))
    }

    @Test(arguments: [
        (
            "      turns: 12\n", "      turns: 12\n      fan-out-probability: 1.5\n",
            "t.yaml:14:28: error: at workloads[0].session.fan-out-probability: expected a probability in 0...1, found 1.5"
        ),
        (
            "      turns: 12\n", "      turns: 12\n      system-prompt-tokens: 200000\n",
            "t.yaml:14:29: error: at workloads[0].session.system-prompt-tokens: the system prompt (200000 tokens) must be shorter than max-context-tokens (131072)"
        ),
        (
            "      affinity: true\n", "      affinity: true\n      turn-retry: 2\n",
            "t.yaml:16:7: error: at workloads[0].session.turn-retry: unknown key `turn-retry`; expected one of: turns, system-prompt-tokens, first-turn-tokens, new-tokens-per-turn, output-tokens, think-time, fan-out-probability, fan-out-size, subagent-input-tokens, subagent-output-tokens, max-context-tokens, compacted-tokens, affinity, turn-retries, retry-backoff, connection"
        ),
        (
            "    rate: 0.1/s\n", "    rate: 0.1/s\n    input-tokens: 100\n",
            "t.yaml:12:5: error: at workloads[0].input-tokens: `input-tokens` does not apply to a session workload; set prompt and output sizes under `session` (and the turn timeout as session.connection.request-timeout)"
        ),
    ])
    func sessionMistakesAreLocated(original: String, replacement: String, expected: String) {
        let text = Self.sessions.replacingOccurrences(of: original, with: replacement)
        #expect(Support.error(text)?.description == expected)
    }

    @Test(arguments: [
        (
            "{metric: waiting, target: 5, max-replicas: 8}",
            "t.yaml:6:26: error: at pools[0].autoscaler.metric: unknown metric `waiting`; expected one of: num_requests_waiting, num_requests_running, kv_cache_usage_perc, concurrency"
        ),
        (
            "{metric: concurrency, target: 5, min-replicas: 9, max-replicas: 8}",
            "t.yaml:6:64: error: at pools[0].autoscaler.min-replicas: min-replicas (9) is above max-replicas (8)"
        ),
        (
            "{metric: concurrency, target: 5, max-replicas: 3}",
            "t.yaml:5:15: error: at pools[0].replicas: with an autoscaler, `replicas` is the initial count and must lie in min-replicas...max-replicas (1...3)"
        ),
        (
            "{metric: kv_cache_usage_perc, target: 80, max-replicas: 8}",
            "t.yaml:6:55: error: at pools[0].autoscaler.target: expected a fraction in (0, 1] for KV use, found 80"
        ),
        (
            "{metric: concurrency, max-replicas: 8}",
            "t.yaml:6:17: error: at pools[0].autoscaler: missing required key `target` (a number > 0)"
        ),
    ])
    func autoscalerMistakesAreLocated(block: String, expected: String) {
        let text = Support.scenario(["    replicas: 4\n": "    replicas: 4\n    autoscaler: \(block)\n"])
        #expect(Support.error(text)?.description == expected)
    }
}
