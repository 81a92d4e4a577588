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
}

/// The gateway's view of the replicas: how often it scrapes their metrics and when it stops trusting them.
public struct RouterSpec: Sendable, Equatable {
    /// How often replica metrics are scraped (the extension's refresh interval); zero reads them live at every
    /// decision.
    public var refreshInterval: SimTime
    /// Metrics older than this mark a replica stale (`fresh: false` in its view).
    public var metricsStaleness: SimTime

    public init(refreshInterval: SimTime = .milliseconds(50), metricsStaleness: SimTime = .milliseconds(200)) {
        self.refreshInterval = refreshInterval
        self.metricsStaleness = metricsStaleness
    }
}
