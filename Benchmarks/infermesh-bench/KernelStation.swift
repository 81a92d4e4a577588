import DequeModule
import Fleet

/// The SimPy baseline's model written directly on the kernel: M/M/c FIFO, `customers` arrivals.
///
/// This is the like-for-like engine comparison: SimPy's model is a `Resource` and two processes, with no
/// routing, records or replicas. It uses the kernel's `Simulator`, event order, digest and GSL streams,
/// exactly as the fleet does; the fleet path is measured separately.
struct KernelStation: SimulationModel {
    enum Event: DigestibleEvent {
        case arrival
        case departure

        var digestCode: UInt64 { self == .arrival ? 1 : 2 }
    }

    let servers: Int
    let meanGap: Double
    let meanService: Double
    let arrivals: RandomStream
    let services: RandomStream
    var remaining: Int
    var busy = 0
    /// Arrival times of the customers waiting for a server, in order.
    var queue = Deque<SimTime>()
    /// Each customer's wait in seconds, in order of service start.
    var waits: [Double] = []

    init(servers: Int, arrivalRate: Double, serviceRate: Double, customers: Int, seed: UInt64) {
        self.servers = servers
        self.meanGap = 1 / arrivalRate
        self.meanService = 1 / serviceRate
        self.arrivals = RandomStream(name: "bench/arrivals", runSeed: seed)
        self.services = RandomStream(name: "bench/services", runSeed: seed)
        self.remaining = customers
        waits.reserveCapacity(customers)
    }

    func gap() -> SimTime { .seconds(arrivals.exponential(mean: meanGap)) }

    mutating func handle(_ event: Event, in sim: inout Simulator<Event>) {
        switch event {
        case .arrival:
            remaining -= 1
            if remaining > 0 { sim.schedule(.arrival, after: gap()) }
            if busy < servers {
                busy += 1
                start(waitingSince: sim.now, in: &sim)
            } else {
                queue.append(sim.now)
            }
        case .departure:
            if let arrived = queue.popFirst() {
                start(waitingSince: arrived, in: &sim)
            } else {
                busy -= 1
            }
        }
    }

    private mutating func start(waitingSince arrived: SimTime, in sim: inout Simulator<Event>) {
        waits.append((sim.now - arrived).seconds)
        sim.schedule(.departure, after: .seconds(services.exponential(mean: meanService)))
    }
}
