@_exported public import Mesh
@_exported public import Routing
@_exported public import Serving
@_exported public import Traffic

/// Everything a run simulates: pools, workloads, and the run's time frame. Policies and seeds vary per run.
public struct FleetSpec: Sendable, Equatable {
    public var pools: [PoolSpec]
    public var workloads: [WorkloadSpec]
    /// Arrivals happen in [0, horizon).
    public var horizon: SimTime
    /// Requests arriving before this are simulated but left out of the metrics.
    public var warmup: SimTime
    /// Whether the run ends once every workload has sent its `maxRequests` and each has ended (a benchmark's
    /// fixed count), rather than at the horizon, which is then only a cap. The run's measured window then ends
    /// at that moment (``RunOutput/spec``'s horizon is set to it).
    public var endsWhenDone = false
    /// The cap on a run that ends when done and whose scenario sets no horizon.
    public static let untilDoneHorizon = SimTime.seconds(Int64(30 * 86_400))
    /// Whether in-flight requests are served to the end after the horizon.
    public var drain: Bool
    /// With `drain`, the longest the run goes on past the horizon; requests still in flight then are `unfinished`.
    public var drainTimeout: SimTime
    /// The period of replica gauge samples; nil records none.
    public var sampleInterval: SimTime?
    /// Scenario-wide objectives; a workload's own override them.
    public var slo: SLO
    /// What the router knows and when.
    public var router: RouterSpec
    /// Scheduling profiles defined by the scenario; each is a policy named after it.
    public var endpointPicker: EndpointPickerConfig?
    /// Clusters joined by an ambient multicluster mesh; nil: one cluster and no network costs.
    public var mesh: MeshSpec?
    /// Prefill/decode disaggregation; nil: every request is served whole where it is routed.
    public var disaggregation: DisaggregationSpec?

    public init(
        pools: [PoolSpec], workloads: [WorkloadSpec], horizon: SimTime, warmup: SimTime = .zero,
        drain: Bool = true, drainTimeout: SimTime = .seconds(3600), sampleInterval: SimTime? = nil,
        slo: SLO = SLO(), router: RouterSpec = RouterSpec(), endpointPicker: EndpointPickerConfig? = nil
    ) {
        self.pools = pools
        self.workloads = workloads
        self.horizon = horizon
        self.warmup = warmup
        self.drain = drain
        self.drainTimeout = drainTimeout
        self.sampleInterval = sampleInterval
        self.slo = slo
        self.router = router
        self.endpointPicker = endpointPicker
    }

    /// The objectives that apply to `workload`.
    public func slo(for workload: WorkloadID) -> SLO { workloads[workload.index].slo.overriding(slo) }

    /// The run's LoRA adapters: every workload's, in workload order, each name once. A request's adapter is an
    /// index into this table, so two workloads naming the same adapter share it on the replicas.
    public var adapterNames: [String] {
        var names: [String] = []
        for workload in workloads {
            for name in workload.lora?.adapters ?? [] where !names.contains(name) { names.append(name) }
        }
        return names
    }
}

/// The gateway's view of the replicas: how often it scrapes their metrics, when it stops trusting them, when
/// it considers the pool full, and what it does then.
public struct RouterSpec: Sendable, Equatable {
    /// How often replica metrics are scraped (the extension's refresh interval); zero reads them live at every
    /// decision.
    public var refreshInterval: SimTime
    /// Metrics older than this mark a replica stale (`fresh: false` in its view).
    public var metricsStaleness: SimTime
    /// The router's own time per decision: a routed request reaches its replica this much later.
    public var decisionTime: SimTime
    /// When a replica counts as saturated.
    public var saturation: SaturationDetectorSpec
    /// Admission control when every replica of a pool is saturated; nil admits everything (the extension's
    /// flow control is off unless its feature gate is on).
    public var flowControl: FlowControlSpec?
    /// Endpoint-picker replicas running active-active, each with its own approximate prefix index; the gateway
    /// hands them requests in turn (Envoy's default round robin), so each learns only from the requests it
    /// routed. The extension's and llm-d's charts run 1.
    public var endpointPickers: Int

    public init(
        refreshInterval: SimTime = .milliseconds(50), metricsStaleness: SimTime = .milliseconds(200),
        decisionTime: SimTime = .zero, saturation: SaturationDetectorSpec = SaturationDetectorSpec(),
        flowControl: FlowControlSpec? = nil, endpointPickers: Int = 1
    ) {
        precondition(endpointPickers >= 1)
        self.refreshInterval = refreshInterval
        self.metricsStaleness = metricsStaleness
        self.decisionTime = decisionTime
        self.saturation = saturation
        self.flowControl = flowControl
        self.endpointPickers = endpointPickers
    }
}

/// The gateway queue used while a pool is saturated: sheddable requests are rejected at once; others wait, by
/// criticality (critical first, then standard, first come first served within each), for at most `maxWait`.
/// At `maxQueue` waiting, a critical arrival displaces the newest standard one; anything else is rejected.
public struct FlowControlSpec: Sendable, Equatable {
    public var maxQueue: Int
    public var maxWait: SimTime

    public init(maxQueue: Int = 10_000, maxWait: SimTime = .seconds(60)) {
        self.maxQueue = maxQueue
        self.maxWait = maxWait
    }
}
