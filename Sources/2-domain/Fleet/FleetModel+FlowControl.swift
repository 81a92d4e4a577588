/// Admission at the gateway: shedding, the priority queue and its deadlines, the saturation detector.
extension FleetModel {
    /// Routes `request` now, or under flow control, when its pool is saturated (or others already wait), sheds
    /// or queues it.
    mutating func admit(_ request: PendingRequest, pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        guard let flowControl = spec.router.flowControl, poolReplicas[pool.index].count > 0,
            !gatewayQueues[pool.index].isEmpty || isSaturated(pool, now: sim.now)
        else {
            route(request, pool: pool, in: &sim)
            return
        }
        if request.criticality == .sheddable {
            gatewayCounts.shed += 1
            end(request.id, as: .rejected, at: sim.now, in: &sim)
            return
        }
        if gatewayQueues[pool.index].count >= flowControl.maxQueue {
            guard request.criticality == .critical, let displaced = gatewayQueues[pool.index].displaceNewestStandard()
            else {
                gatewayCounts.overflowed += 1
                end(request.id, as: .rejected, at: sim.now, in: &sim)
                return
            }
            gatewayCounts.overflowed += 1
            if let entry = waiting.removeValue(forKey: displaced) { sim.cancel(entry.deadline) }
            end(displaced, as: .rejected, at: sim.now, in: &sim)
        }
        gatewayCounts.queued += 1
        gatewayQueues[pool.index].append(request.id, critical: request.criticality == .critical)
        waiting[request.id] = (request, sim.schedule(.gatewayDeadline(request.id), after: flowControl.maxWait))
        dispatchWaiting(pool: pool, in: &sim)
    }

    /// Dispatches queued requests while the pool has room (called when metrics or load change).
    mutating func dispatchWaiting(pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        while !gatewayQueues[pool.index].isEmpty && !isSaturated(pool, now: sim.now) {
            guard let id = gatewayQueues[pool.index].popFirst(), let entry = waiting.removeValue(forKey: id) else {
                continue  // ended while it waited (its deadline or a workload timeout)
            }
            sim.cancel(entry.deadline)
            route(entry.request, pool: pool, in: &sim)
        }
    }

    /// A queued request waited its longest: it is rejected.
    mutating func expireWaiting(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        guard waiting.removeValue(forKey: id) != nil else { return }
        gatewayCounts.expired += 1
        end(id, as: .rejected, at: sim.now, in: &sim)
    }

    /// Whether every replica of `pool` is saturated by the detector's rule, on the router's metrics.
    func isSaturated(_ pool: PoolID, now: SimTime) -> Bool {
        poolReplicas[pool.index].allSatisfy { replica in
            var view = ReplicaView(id: replica, outstanding: outstanding[replica.index])
            fillMetrics(&view, now: now)
            return spec.router.saturation.isSaturated(view)
        }
    }
}
