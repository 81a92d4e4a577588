import Fleet

extension NodeReader {
    /// A workload's `session` block: agent sessions, every field optional (defaults in ``AgentSessionSpec``).
    func agentSession() throws(ScenarioError) -> AgentSessionSpec {
        let fields = try mapping(keys: ScenarioKeys.session, what: "a mapping of session settings, like {turns: 100}")
        var spec = AgentSessionSpec()
        spec.turns = try fields["turns"]?.distribution(of: .tokens) ?? spec.turns
        spec.systemPromptTokens =
            try fields["system-prompt-tokens"]?.integer(in: 0...10_000_000) ?? spec.systemPromptTokens
        spec.firstTurnTokens = try fields["first-turn-tokens"]?.distribution(of: .tokens) ?? spec.firstTurnTokens
        spec.newTokensPerTurn = try fields["new-tokens-per-turn"]?.distribution(of: .tokens) ?? spec.newTokensPerTurn
        spec.outputTokens = try fields["output-tokens"]?.distribution(of: .tokens) ?? spec.outputTokens
        spec.thinkTimeSeconds = try fields["think-time"]?.distribution(of: .duration) ?? spec.thinkTimeSeconds
        if let probability = fields["fan-out-probability"] {
            spec.fanOutProbability = try probability.number(.nonNegative)
            if spec.fanOutProbability > 1 { throw probability.expected("a probability in 0...1") }
        }
        spec.fanOutSize = try fields["fan-out-size"]?.distribution(of: .tokens) ?? spec.fanOutSize
        spec.subagentInputTokens =
            try fields["subagent-input-tokens"]?.distribution(of: .tokens) ?? spec.subagentInputTokens
        spec.subagentOutputTokens =
            try fields["subagent-output-tokens"]?.distribution(of: .tokens) ?? spec.subagentOutputTokens
        spec.maxContextTokens = try fields["max-context-tokens"]?.integer(in: 1...100_000_000) ?? spec.maxContextTokens
        spec.compactedTokens = try fields["compacted-tokens"]?.integer(in: 0...100_000_000) ?? spec.compactedTokens
        if spec.systemPromptTokens >= spec.maxContextTokens {
            throw (fields["system-prompt-tokens"] ?? fields["max-context-tokens"]!).error(
                "the system prompt (\(spec.systemPromptTokens) tokens) must be shorter than max-context-tokens "
                    + "(\(spec.maxContextTokens))")
        }
        spec.affinity = try fields["affinity"]?.bool() ?? spec.affinity
        spec.turnRetries = try fields["turn-retries"]?.integer(in: 0...1_000) ?? spec.turnRetries
        spec.retryBackoff = try fields["retry-backoff"]?.duration(allowZero: true) ?? spec.retryBackoff
        if let connection = fields["connection"] {
            let limits = try connection.mapping(
                keys: ScenarioKeys.connection, what: "a mapping like {request-timeout: 30s, idle-timeout: 1h}")
            // As in Envoy, 0s switches a limit off.
            func limit(_ key: String, _ current: SimTime?) throws(ScenarioError) -> SimTime? {
                guard let reader = limits[key] else { return current }
                let value = try reader.duration(allowZero: true)
                return value == .zero ? nil : value
            }
            spec.connection.requestTimeout = try limit("request-timeout", spec.connection.requestTimeout)
            spec.connection.idleTimeout = try limit("idle-timeout", spec.connection.idleTimeout)
            spec.connection.maxConnectionDuration = try limit(
                "max-connection-duration", spec.connection.maxConnectionDuration)
        }
        return spec
    }

    /// A pool's `autoscaler` block. `replicas` is the pool's initial count, which must lie in [min, max].
    func autoscaler(initialReplicas: Int, replicasReader: NodeReader) throws(ScenarioError) -> AutoscalerSpec {
        let fields = try mapping(
            keys: ScenarioKeys.autoscaler,
            what: "a mapping like {metric: num_requests_waiting, target: 5, max-replicas: 16}")
        let names = AutoscalerSpec.Metric.allCases.map(\.rawValue)
        let metricReader = try fields.required("metric", expecting: "one of: \(names.joined(separator: ", "))")
        let metricName = try metricReader.string("one of: \(names.joined(separator: ", "))")
        guard let metric = AutoscalerSpec.Metric(rawValue: metricName) else {
            throw metricReader.error("unknown metric `\(metricName)`" + Suggestions.hint(for: metricName, among: names))
        }
        let targetReader = try fields.required("target", expecting: "a number > 0")
        let target = try targetReader.number(.positive)
        if metric == .kvCacheUsagePerc && target > 1 { throw targetReader.expected("a fraction in (0, 1] for KV use") }
        let maxReader = try fields.required("max-replicas", expecting: "an integer in 1...100000")
        let maxReplicas = try maxReader.integer(in: 1...100_000)
        let minReplicas = try fields["min-replicas"]?.integer(in: 1...100_000) ?? 1
        if minReplicas > maxReplicas {
            throw (fields["min-replicas"] ?? maxReader).error(
                "min-replicas (\(minReplicas)) is above max-replicas (\(maxReplicas))")
        }
        if !(minReplicas...maxReplicas).contains(initialReplicas) {
            throw replicasReader.error(
                "with an autoscaler, `replicas` is the initial count and must lie in min-replicas...max-replicas "
                    + "(\(minReplicas)...\(maxReplicas))")
        }
        var spec = AutoscalerSpec(metric: metric, target: target, minReplicas: minReplicas, maxReplicas: maxReplicas)
        spec.syncPeriod = try fields["sync-period"]?.duration(allowZero: false) ?? spec.syncPeriod
        spec.scaleDownStabilization =
            try fields["scale-down-stabilization"]?.duration(allowZero: true) ?? spec.scaleDownStabilization
        spec.provisioningDelay = try fields["provisioning-delay"]?.duration(allowZero: true) ?? spec.provisioningDelay
        if let tolerance = fields["tolerance"] {
            spec.tolerance = try tolerance.number(.nonNegative)
            if spec.tolerance >= 1 { throw tolerance.expected("a fraction in 0..<1") }
        }
        return spec
    }
}
