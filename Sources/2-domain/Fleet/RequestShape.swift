/// What a request is, fixed once at its arrival: its sizes, its criticality and the session turn it belongs
/// to. With its prompt's shared prefix (kept beside it by the ledger) it is what routing and serving read;
/// nothing changes it afterwards.
///
/// A plain value (no references), so that the ledger stores and copies it without reference counting.
struct RequestShape {
    var id: RequestID
    var workload: WorkloadID
    var input: Int
    var output: Int
    var criticality: Criticality
    /// The session turn it belongs to, and when that session started; nil outside agent sessions.
    var session: SessionLink?
    var sessionStart = SimTime.zero
}
