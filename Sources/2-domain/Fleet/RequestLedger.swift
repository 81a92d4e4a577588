/// The request ledger: every request from its arrival until it is handed to the run's sinks.
///
/// It holds each request's shape, its record (what happened to it), the replica its current attempt holds a
/// place on, and its deadline. A request that has ended and that no other component still names is handed,
/// in request order, to the sinks and dropped (``handOutOldest(path:)``), so memory follows the requests in
/// flight, not the length of the run. The digest mixes requests and samples as they are handed out.
///
/// Events it owns: `.timeout(request)`.
struct RequestLedger {
    // A request's shape is kept in parts, to hold as few bytes per request as possible (a run holds the span
    // from the oldest request not yet handed out to the newest): its sizes and workload are in its record;
    // the rest of it, with its attempt, in one small plain value; its prefix only until it ends (routing and delivery read it, nothing after), so not for the whole span.
    private var records = SlidingArray<RequestRecord>(dropped: .retired)
    private var extras = SlidingArray<Extras>(dropped: Extras(criticality: .standard))
    private var prefixes: [RequestID: PromptPrefix] = [:]
    /// Requests handed out but not yet dropped (dropped together by ``dropHandedOut()``).
    private var handedOut = 0

    /// What a request's record does not hold of its shape, and the replica its current attempt counts
    /// against (the router's `outstanding`), or -1.
    private struct Extras {
        var attempt: Int32 = -1
        /// The prompt tokens the attempt added to the router's prefill backlog, until its first token.
        var prefillCharge: Int32 = 0
        var session: Int32 = -1
        var turn: Int32 = 0
        let criticality: Criticality
        var subagent = false
    }

    /// Each request's pending deadline; kept only when some workload has a timeout.
    private var timeouts = SlidingArray<EventID?>(dropped: nil)
    private let hasTimeouts: Bool
    private let sinks: [any RunSink]
    /// The most requests held at once.
    private(set) var peakHeld = 0
    private(set) var requestDigest = RunDigest()
    private(set) var sampleDigest = RunDigest()
    /// Requests handed out, per terminal status (`RequestStatus.allCases` order).
    private(set) var statusTotals = Array(repeating: 0, count: RequestStatus.allCases.count)
    /// Inconsistencies found (always bugs).
    private(set) var violations: [String] = []

    init(spec: FleetSpec, sinks: [any RunSink]) {
        self.sinks = sinks
        self.hasTimeouts = spec.workloads.contains { $0.timeout != nil || $0.session?.connection.requestTimeout != nil }
    }

    /// Requests made so far.
    var count: Int { records.count }
    /// Requests given their terminal status so far.
    private(set) var ended = 0
    /// Requests opened and not yet ended.
    var inFlight: Int { records.count - ended }

    /// Records a request arriving now with this shape (its `id` is assigned here) and returns its id.
    mutating func open(
        _ shape: RequestShape, prefix: PromptPrefix?, timeout: SimTime?, in sim: inout Simulator<FleetEvent>
    ) -> RequestID {
        let id = RequestID(records.count)
        var record = RequestRecord(
            id: id, workload: shape.workload, arrival: sim.now, inputTokens: shape.input, outputTokens: shape.output)
        if shape.adapter >= 0 { record.adapter = Int(shape.adapter) }
        records.append(record)
        var extra = Extras(criticality: shape.criticality)
        if let link = shape.session {
            extra.session = Int32(link.session)
            extra.turn = Int32(link.turn)
            extra.subagent = link.subagent
        }
        extras.append(extra)
        if let prefix { prefixes[id] = prefix }
        if hasTimeouts { timeouts.append(timeout.map { sim.schedule(.timeout(id), after: $0) }) }
        return id
    }

    /// The shape of a request not yet handed out.
    func shape(_ id: RequestID) -> RequestShape {
        let record = records[id.index]
        var shape = RequestShape(
            workload: record.workload, input: record.inputTokens, output: record.outputTokens,
            criticality: extras[id.index].criticality, session: session(id), adapter: Int32(record.adapter ?? -1))
        shape.id = id
        return shape
    }

    /// The session turn a request belongs to, if any.
    func session(_ id: RequestID) -> SessionLink? {
        let extra = extras[id.index]
        guard extra.session >= 0 else { return nil }
        return SessionLink(request: id, session: Int(extra.session), turn: Int(extra.turn), subagent: extra.subagent)
    }

    /// A request's criticality.
    func criticality(_ id: RequestID) -> Criticality { extras[id.index].criticality }

    /// The shared head of a request's prompt, if any.
    func prefix(_ id: RequestID) -> PromptPrefix? { prefixes.isEmpty ? nil : prefixes[id] }

    /// What the replica is told about a request.
    func serving(_ id: RequestID) -> ServingRequest {
        let record = records[id.index]
        return ServingRequest(
            id: id, inputTokens: record.inputTokens, outputTokens: record.outputTokens, prefix: prefix(id),
            adapter: Int32(record.adapter ?? -1))
    }

    subscript(_ id: RequestID) -> RequestRecord {
        get { records[id.index] }
        _modify { yield &records[id.index] }
    }

    /// Whether the request has reached its terminal status (a request handed out has).
    func hasEnded(_ id: RequestID) -> Bool { records[id.index].status != nil }

    /// The replica the request's current attempt holds a place on.
    func attempt(_ id: RequestID) -> ReplicaID? {
        let replica = extras[id.index].attempt
        return replica < 0 ? nil : ReplicaID(Int(replica))
    }

    /// The request's attempt now holds a place on `replica`, which its record names; the record keeps when
    /// the request was first routed.
    mutating func startAttempt(_ id: RequestID, on replica: ReplicaID, at now: SimTime, prefillCharge: Int) {
        extras.update(id.index) {
            $0.attempt = Int32(replica.index)
            $0.prefillCharge = Int32(clamping: prefillCharge)
        }
        records[id.index].replica = replica
        if records[id.index].routed == nil { records[id.index].routed = now }
    }

    /// The current attempt gives up its place; returns the replica it held and the prefill charge it had not
    /// settled (a request that ends before its first token).
    mutating func endAttempt(_ id: RequestID) -> (replica: ReplicaID, unsettledPrefill: Int)? {
        guard let replica = attempt(id) else { return nil }
        let charge = extras.update(id.index) { extra in
            defer { (extra.attempt, extra.prefillCharge) = (-1, 0) }
            return Int(extra.prefillCharge)
        }
        return (replica, charge)
    }

    /// The attempt's prefill is done (its first token): returns its charge, once; 0 after.
    mutating func settlePrefill(_ id: RequestID) -> Int {
        extras.update(id.index) { extra in
            defer { extra.prefillCharge = 0 }
            return Int(extra.prefillCharge)
        }
    }

    /// Gives the request its one terminal status, cancelling its deadline. False (and a violation) if it had
    /// one already.
    mutating func end(
        _ id: RequestID, as status: RequestStatus, at now: SimTime, in sim: inout Simulator<FleetEvent>
    )
        -> Bool
    {
        if let previous = records[id.index].status {
            violations.append("\(id) ended twice: \(previous.rawValue), then \(status.rawValue)")
            return false
        }
        records[id.index].status = status
        records[id.index].end = now
        ended += 1
        if !prefixes.isEmpty { prefixes[id] = nil }
        if hasTimeouts, let timeout = timeouts[id.index] {
            sim.cancel(timeout)
            timeouts[id.index] = nil
        }
        return true
    }

    /// The request's deadline fired: forgets it. False (and a violation) if the request had already ended.
    mutating func deadlineFired(_ id: RequestID) -> Bool {
        timeouts[id.index] = nil
        guard records[id.index].status == nil else {
            violations.append("timeout fired for \(id), which had already ended")
            return false
        }
        return true
    }

    /// Marks every request still in flight `unfinished`; called once when the run stops.
    mutating func finish() {
        for index in records.indices where records[index].status == nil { records[index].status = .unfinished }
    }

    /// The oldest request still held, if any.
    var oldest: RequestID? {
        let index = records.base + handedOut
        return index < records.count ? RequestID(index) : nil
    }

    /// Notes how many requests are held now (for ``peakHeld``).
    mutating func notePeak() { peakHeld = Swift.max(peakHeld, records.count - records.base) }

    /// Hands the oldest request held to the sinks, with its session link and the session's start, and its mesh
    /// path (``dropHandedOut()`` then drops it).
    mutating func handOutOldest(
        path: RequestPath?, session link: SessionLink?, sessionStart: SimTime?, split: DisaggregatedServing? = nil
    ) {
        let index = records.base + handedOut
        handedOut += 1
        let record = records[index]
        if record.status == nil {
            violations.append("request \(index) has no terminal status")
        } else if record.status != .unfinished && record.end == nil {
            violations.append("request \(index) is \(record.status!.rawValue) without an end time")
        } else {
            statusTotals[record.statusIndex] += 1
        }
        var finished = FinishedRequest(record: record)
        requestDigest.mix(record)
        if let link {
            finished.session = link
            finished.sessionStart = sessionStart
            requestDigest.mix(Int64(link.request.index) << 24 ^ Int64(link.session))
            requestDigest.mix(Int64(link.turn) << 1 | (link.subagent ? 1 : 0))
        }
        if let path {
            finished.path = path
            requestDigest.mix(path.networkNanoseconds)
            requestDigest.mix(Int64(path.attempts - 1) << 32 | Int64(path.origin) << 1 | (path.crossCluster ? 1 : 0))
        }
        if let split {
            finished.disaggregation = split
            requestDigest.mix(Int64(split.prefillReplica.index) << 1 | 1)
            requestDigest.mix(split.kvTransferNanoseconds ?? -1)
            requestDigest.mix(split.kvTransferBytes)
        }
        for sink in sinks { sink.accept(finished) }
    }

    /// Drops the requests handed out; returns how many.
    mutating func dropHandedOut() -> Int {
        let count = handedOut
        guard count > 0 else { return 0 }
        handedOut = 0
        records.dropOldest(count)
        extras.dropOldest(count)
        if hasTimeouts { timeouts.dropOldest(count) }
        return count
    }

    /// Hands a gauge sample to the sinks.
    mutating func emit(_ sample: GaugeSample) {
        sampleDigest.mix(sample)
        for sink in sinks { sink.accept(sample) }
    }

    /// Writes to requests already handed out (a bug: they are lost).
    var lateWrites: Int {
        records.lateWrites + extras.lateWrites + timeouts.lateWrites
    }
}
