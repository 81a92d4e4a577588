/// The simulated fleet: the thin join of its components, and the single `SimulationModel` of a run.
///
/// Each component owns its state and its events (see docs/architecture.md): ``Traffic``, ``RequestLedger``,
/// ``ReplicaSet``, ``Router`` (with ``FlowControl``), ``Mesh``, ``Sessions`` and ``Autoscaler``. The fleet
/// holds no state of its own beyond them and whether the horizon has passed: it sends each event to its
/// owner and carries a request between them (Fleet+Requests.swift, Fleet+Attempts.swift).
struct FleetModel: SimulationModel {
    let spec: FleetSpec
    var traffic: Traffic
    var ledger: RequestLedger
    var replicas: ReplicaSet
    var router: Router
    let mesh: Mesh
    var sessions: Sessions
    var autoscaler: Autoscaler
    var disaggregation: Disaggregation
    private let streams: RandomStreams
    /// Whether new work is still generated (the horizon is ahead).
    var generating = true
    /// When a run that ends when done was done: its last response.
    var doneAt: SimTime?

    init(spec: FleetSpec, policy: PolicyEntry, streams: RandomStreams, sinks: [any RunSink]) {
        self.spec = spec
        self.streams = streams
        let replicas = ReplicaSet(spec: spec, streams: streams)
        self.replicas = replicas
        self.router = Router(spec: spec, policy: policy, streams: streams, replicas: replicas)
        self.traffic = Traffic(spec: spec, streams: streams)
        self.ledger = RequestLedger(spec: spec, sinks: sinks)
        self.sessions = Sessions(spec: spec, streams: streams)
        self.autoscaler = Autoscaler(spec: spec, replicaCount: replicas.count)
        let mesh = Mesh(spec: spec.mesh, fleet: spec, replicaCount: replicas.count, streams: streams)
        self.mesh = mesh
        // One model of the links for both: KV transfers flow on it, the mesh prices request bytes by it.
        let fabric = LinkFabric(spec: spec, replicaPools: replicas.pool, replicaCluster: mesh.replicaCluster)
        if spec.disaggregation != nil { mesh.fabric = fabric }
        self.disaggregation = Disaggregation(spec: spec, replicaPools: replicas.pool, fabric: fabric)
    }

    /// Schedules the first arrivals, samples, the warm-up mark, and each component's first events.
    mutating func start(in sim: inout Simulator<FleetEvent>) {
        traffic.start(in: &sim)
        if spec.warmup > .zero && spec.warmup < spec.horizon {
            sim.schedule(.warmupEnd, at: spec.warmup)
        } else if spec.warmup == .zero {
            replicas.setMeasuring(true)
        }
        if let interval = spec.sampleInterval { sim.schedule(.sample, at: interval) }
        autoscaler.start(in: &sim)
        mesh.start(in: &sim)
        router.start(replicas: replicas.count, streams: streams, in: &sim)
    }

    mutating func handle(_ event: FleetEvent, in sim: inout Simulator<FleetEvent>) {
        switch event {
        case .arrival(let workload): arrive(workload, in: &sim)
        case .replicaTimer(let replica, let timer):
            var effects = replicas.borrowEffects()
            replicas[replica].fire(timer, now: sim.now, effects: &effects)
            apply(&effects, from: replica, in: &sim)
        case .timeout(let request): expire(request, in: &sim)
        case .sample: sample(in: &sim)
        case .scrape(let replica):
            router.scrape(
                replica, gauges: replicas[replica].gauges(now: sim.now), generating: generating,
                horizon: spec.horizon, in: &sim)
            if router.flowControl.isOn { dispatchWaiting(pool: replicas.pool[replica.index], in: &sim) }
        case .deliver(let id, let replica, let attempt):
            // A delivery of an attempt that has since failed (and been retried) is stale.
            guard attempt == mesh.attempt(id), router.arrived(id) else { break }
            if mesh.deliverable(id, to: replica) {
                deliver(id, to: replica, in: &sim)
            } else {
                attemptFailed(id, on: replica, in: &sim)
            }
        case .perTryTimeout(let id, let attempt):
            guard let replica = ledger.attempt(id), Int(mesh.attempt(id)) == attempt else { break }
            mesh.perTryTimerFired(id)
            attemptFailed(id, on: replica, in: &sim)
        case .fault(let index, let starting): fault(index, starting: starting, in: &sim)
        case .endpointRemoval(let replica):
            mesh.removeEndpoint(replica, name: replicas.info[replica.index].name, at: sim.now)
            if mesh.endpointRemoved[replica.index] { router.endpointRemoved(replica, at: sim.now) }
        case .outlierCheck:
            mesh.outlierCheck(names: replicas.poolSlots.map { $0.map { replicas.info[$0.index].name } }, at: sim.now)
            if let interval = mesh.spec.outlierDetection?.interval, generating || router.hasInTransit {
                sim.schedule(.outlierCheck, after: interval)
            }
        case .gatewayDeadline(let id):
            if router.flowControl.deadlinePassed(id) { end(id, as: .rejected, at: sim.now, in: &sim) }
        case .autoscale(let pool):
            autoscaler.decide(
                pool, replicas: &replicas, outstanding: router.outstanding, generating: generating, in: &sim)
        case .replicaReady(let replica):
            if autoscaler.replicaReady(replica, replicas: &replicas, at: sim.now) && router.flowControl.isOn {
                dispatchWaiting(pool: replicas.pool[replica.index], in: &sim)
            }
        case .sessionTurn(let session): sendTurn(session, in: &sim)
        case .subagents(let session): send(sessions.takeSubagents(session), in: &sim)
        case .connectionLimit(let session):
            for request in sessions.connectionLimitReached(session, in: &sim) {
                cut(request, as: .failed, in: &sim)
            }
        case .warmupEnd: replicas.warmupEnded(at: sim.now)
        case .kvFlowsDue(let generation): kvFlowsDue(generation, in: &sim)
        case .kvTransferred(let id): kvTransferred(id, in: &sim)
        }
    }

    mutating func horizonReached(in sim: inout Simulator<FleetEvent>) {
        // A run that ended when done has passed its horizon already.
        guard generating else { return }
        generating = false
        replicas.horizonReached(at: sim.now)
        mesh.horizonReached(at: sim.now)
    }

    /// Marks every request and session still in flight `unfinished` and hands every request out; called once
    /// when the run stops.
    mutating func finish() {
        ledger.finish()
        sessions.finish()
        retireFinished(all: true)
    }

    /// Samples every replica's gauges and hands the samples to the ledger's sinks.
    mutating func sample(in sim: inout Simulator<FleetEvent>) {
        guard let interval = spec.sampleInterval else { return }
        for sample in replicas.sample(at: sim.now, interval: interval) { ledger.emit(sample) }
        let next = sim.now + interval
        if generating && next <= spec.horizon { sim.schedule(.sample, at: next) }
    }

    /// Hands out the oldest requests that have ended and that no component still names, in request order
    /// (all of them if `all`).
    mutating func retireFinished(all: Bool = false) {
        ledger.notePeak()
        while let id = ledger.oldest, all || (ledger.hasEnded(id) && !router.holds(id)) {
            let link = sessions.exist ? ledger.session(id) : nil
            ledger.handOutOldest(
                path: mesh.path(of: id), session: link, sessionStart: link.map { sessions.start(of: $0.session) },
                split: disaggregation.isActive ? disaggregation.takeOutcome(id) : nil)
        }
        mesh.dropOldest(ledger.dropHandedOut())
    }

    /// Writes to requests already handed out (a bug: they are lost).
    var lateWrites: Int { ledger.lateWrites + mesh.lateWrites }

    /// Every inconsistency found (always bugs).
    var invariantViolations: [String] {
        var found = traffic.failures + ledger.violations
        // The router's own counts go back to zero with the requests: each attempt returns what it added.
        if ledger.inFlight == 0,
            let replica = router.outstanding.indices.first(where: {
                router.outstanding[$0] != 0 || router.prefillBacklog[$0] != 0
            })
        {
            found.append(
                "replica \(replica) still counts \(router.outstanding[replica]) request(s) and "
                    + "\(router.prefillBacklog[replica]) prefill token(s) after every request ended")
        }
        if ledger.inFlight == 0 && disaggregation.openSplits > 0 {
            found.append("\(disaggregation.openSplits) split request(s) still open after every request ended")
        }
        return found
    }
}
