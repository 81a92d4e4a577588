/// What a request is, fixed once at its arrival: its sizes, its criticality and the session turn it belongs
/// to. With its prompt's shared prefix (kept beside it by the ledger) it is what routing and serving read;
/// nothing changes it afterwards.
///
/// A plain value with no references, stored compactly (32-bit counts, the session link flattened), because
/// the ledger keeps one per request in flight and copies it on every routing and delivery.
struct RequestShape {
    private var idIndex: Int32 = 0
    private var workloadIndex: Int32
    private var inputTokens: Int32
    private var outputTokens: Int32
    private var sessionIndex: Int32 = -1
    private var turnNumber: Int32 = 0
    private var isSubagent = false
    let criticality: Criticality
    /// Its LoRA adapter, an index into the run's adapter table; -1 for the base model.
    let adapter: Int32

    init(
        workload: WorkloadID, input: Int, output: Int, criticality: Criticality, session: SessionLink? = nil,
        adapter: Int32 = -1
    ) {
        self.adapter = adapter
        self.workloadIndex = Int32(workload.index)
        self.inputTokens = Int32(clamping: input)
        self.outputTokens = Int32(clamping: output)
        self.criticality = criticality
        if let session {
            self.sessionIndex = Int32(session.session)
            self.turnNumber = Int32(session.turn)
            self.isSubagent = session.subagent
        }
    }

    /// The request's id, set by the ledger when it records the request.
    var id: RequestID {
        get { RequestID(Int(idIndex)) }
        set { idIndex = Int32(newValue.index) }
    }
    var workload: WorkloadID { WorkloadID(Int(workloadIndex)) }
    var input: Int { Int(inputTokens) }
    var output: Int { Int(outputTokens) }
    /// The session turn it belongs to; nil outside agent sessions.
    var session: SessionLink? {
        sessionIndex < 0
            ? nil
            : SessionLink(request: id, session: Int(sessionIndex), turn: Int(turnNumber), subagent: isSubagent)
    }
}
