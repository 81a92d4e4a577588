/// What a request is, fixed once at its arrival: its sizes, its prompt's shared prefix, its criticality and
/// the session turn it belongs to. Routing and serving read it; nothing changes it afterwards.
struct RequestShape {
    var id: RequestID
    var workload: WorkloadID
    var input: Int
    var output: Int
    var prefix: PromptPrefix?
    var criticality: Criticality
    /// The session turn it belongs to, and when that session started; nil outside agent sessions.
    var session: SessionLink?
    var sessionStart = SimTime.zero

    /// What the replica is told about it.
    var serving: ServingRequest { ServingRequest(id: id, inputTokens: input, outputTokens: output, prefix: prefix) }
}
