/// A split request's way: the prefill replica chosen after the decode replica (llm-d's `pd-profile-handler`),
/// the prompt there, the decode replica's reservation, the KV transfer, and decoding; or, when the decode
/// replica has no room, a wait or decoding on the prefill replica.
extension FleetModel {
    /// After the decode replica is chosen: if its pool has prefill replicas and the prompt's tokens not cached
    /// there reach the handler's threshold, the prefill pool's own policy picks the prefill replica. Returns
    /// whether the request is split.
    mutating func splitPrefill(
        _ id: RequestID, decode: ReplicaID, uncached: Int, origin: Int, now: SimTime
    ) -> Bool {
        guard let pool = disaggregation.prefillPool[replicas.pool[decode.index].index],
            disaggregation.splits(uncached: uncached)
        else { return false }
        // No prefill replica ready: served whole. A session's previous replica was a decode replica: no affinity.
        guard let (prefill, cached, _) = pick(id, pool: pool, origin: origin, affinity: false, now: now) else {
            return false
        }
        let charge = Swift.max(0, ledger[id].inputTokens - cached)
        router.attemptStarted(on: prefill, prefillTokens: charge)
        disaggregation.plan(id, prefill: prefill, decode: decode, prefillCharge: charge)
        return true
    }

    /// The prompt is in KV on its prefill replica: the decode replica reserves room and the transfer starts,
    /// or the request waits for room, or decodes where it is.
    mutating func prefilled(_ id: RequestID, on prefill: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        guard let (split, charge) = disaggregation.prefilled(id) else { return }
        router.prefillDone(on: prefill, tokens: charge)
        if tryTransfer(id, to: split.decode, in: &sim) { return }
        // A request the decode replica's whole cache could never hold would wait forever: it decodes where its
        // KV is (its prefill replica admitted it, so it fits there), as `aggregate` would.
        let never = !replicas[split.decode].canEverHold(ledger.serving(id))
        if never && mesh.isActive {
            // Decoding on the prefill replica is not modelled with a mesh (the request's path is the decode
            // replica's): refused, as vLLM refuses a request longer than its cache.
            end(id, as: .rejected, at: sim.now, in: &sim)
            return
        }
        switch never ? .aggregate : disaggregation.spec?.whenDecodeFull ?? .wait {
        case .wait: disaggregation.waitForRoom(id, on: split.decode)
        case .aggregate: decodeOnPrefillReplica(id, in: &sim)
        }
    }

    /// Reserves room on the decode replica and starts the transfer; false when there is no room.
    private mutating func tryTransfer(
        _ id: RequestID, to decode: ReplicaID, in sim: inout Simulator<FleetEvent>
    ) -> Bool {
        guard let cached = replicas[decode].reserve(ledger.serving(id), now: sim.now) else { return false }
        let (latency, moving) = disaggregation.startTransfer(
            id, promptTokens: ledger[id].inputTokens, cachedTokens: cached, now: sim.now)
        if moving {
            scheduleNextFlowEnd(in: &sim)
        } else {
            sim.schedule(.kvTransferred(id), after: latency)
        }
        return true
    }

    /// Requests waiting for room on `decode`, first come first served, while it has room.
    mutating func reserveWaiting(on decode: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        while let id = disaggregation.firstWaiting(on: decode), tryTransfer(id, to: decode, in: &sim) {
            disaggregation.removeFirstWaiting(on: decode)
        }
    }

    private mutating func scheduleNextFlowEnd(in sim: inout Simulator<FleetEvent>) {
        guard let (at, generation) = disaggregation.nextFlowEnd else { return }
        sim.schedule(.kvFlowsDue(generation), at: Swift.max(at, sim.now))
    }

    /// The fabric's transfers that ended now pay their fixed latency; the rest go on at their new rates.
    mutating func kvFlowsDue(_ generation: UInt64, in sim: inout Simulator<FleetEvent>) {
        guard let done = disaggregation.flowsDue(generation: generation, now: sim.now) else { return }
        for (id, latency) in done { sim.schedule(.kvTransferred(id), after: latency) }
        scheduleNextFlowEnd(in: &sim)
    }

    /// The KV is on the decode replica: the prefill replica frees it, and the decode replica decodes.
    mutating func kvTransferred(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        guard let split = disaggregation.transferred(id, now: sim.now) else { return }
        replicas[split.prefill].releaseTransferred(id, now: sim.now)
        _ = router.attemptEnded(on: split.prefill, unsettledPrefill: 0)
        var effects = replicas.borrowEffects()
        replicas[split.decode].receive(id, now: sim.now, effects: &effects)
        apply(&effects, from: split.decode, in: &sim)
    }

    /// No room on the decode replica: the request's attempt moves to its prefill replica, which decodes it.
    private mutating func decodeOnPrefillReplica(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        guard let split = disaggregation.fellBack(id), let (decode, unsettled) = ledger.endAttempt(id) else { return }
        _ = router.attemptEnded(on: decode, unsettledPrefill: unsettled)
        // The prefill replica's place (taken when the split was planned) becomes the attempt's.
        ledger.startAttempt(id, on: split.prefill, at: sim.now, prefillCharge: 0)
        var effects = replicas.borrowEffects()
        replicas[split.prefill].decodeHeld(id, now: sim.now, effects: &effects)
        apply(&effects, from: split.prefill, in: &sim)
    }

    /// The request's attempt ended before its split did: what the prefill replica still holds is aborted, and
    /// the prefill replica's place and unsettled prefill are given back.
    mutating func abandonSplit(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        guard let split = disaggregation.abandon(id, now: sim.now) else { return }
        _ = router.attemptEnded(on: split.prefill, unsettledPrefill: split.prefillCharge)
        if split.phase == .transferring { scheduleNextFlowEnd(in: &sim) }
        guard split.phase != .routed else { return }
        var effects = replicas.borrowEffects()
        _ = replicas[split.prefill].abort(id, now: sim.now, effects: &effects)
        apply(&effects, from: split.prefill, in: &sim)
    }
}
