// CibaDecisionRecord.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file for
// both: copy it with the files of v7/ or v8/).
//
// Why this exists: Duende forgets a decision. CompleteLoginRequestAsync marks the stored request
// complete, and the client's next token poll deletes it (RemoveByInternalIdAsync in
// BackchannelAuthenticationRequestIdValidator). A user whose response got lost and who presses Approve
// again would then get 404 instead of "you already approved". Duende also does not refuse a second
// completion: CompleteLoginRequestAsync never looks at IsComplete, so two tabs both succeed and the
// last one wins. This record keeps internalId -> (subject, outcome) until the request would have
// expired, and its insert is the one gate a decision must pass before Duende is told.
//
// The in-memory record below is correct for ONE instance of the host. Several instances behind a load
// balancer need a shared store whose insert is atomic and fails when the key exists, for example
//   SQL:   INSERT INTO ciba_decisions (internal_id, subject, outcome, expires_at) VALUES (...)
//          with internal_id the PRIMARY KEY (a unique violation = someone decided first), plus a job
//          deleting rows past expires_at;
//   Redis: SET ciba:decision:{internalId} "{subject} {outcome}" NX PXAT {expiresAt in ms}.
// IDistributedCache cannot do this (it has no add-if-absent), and neither can Duende's store
// (UpdateByInternalIdAsync overwrites unconditionally).

using System.Collections.Concurrent;

namespace CibaApproval;

/// <summary>One decision: who made it and how, kept until the request would have expired.</summary>
public sealed record CibaDecision(string InternalId, string Subject, string Outcome, DateTime ExpiresAtUtc);

public interface ICibaDecisionRecord
{
    /// <summary>
    /// Records the decision unless one is already recorded for its InternalId. Atomic: of any number of
    /// concurrent callers for one InternalId exactly one gets true.
    /// </summary>
    Task<bool> TryAddAsync(CibaDecision decision, CancellationToken ct);

    /// <summary>The live decision for this InternalId, or null (never decided here, or expired).</summary>
    Task<CibaDecision?> FindAsync(string internalId, CancellationToken ct);

    /// <summary>Takes back exactly this decision (Duende refused the completion after all).</summary>
    Task RemoveAsync(CibaDecision decision, CancellationToken ct);
}

/// <summary>A process-local record: right for a single host instance only (see above).</summary>
public sealed class InMemoryCibaDecisionRecord(TimeProvider time) : ICibaDecisionRecord
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, CibaDecision> _decisions = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    public Task<bool> TryAddAsync(CibaDecision decision, CancellationToken ct)
    {
        Sweep();
        // ConcurrentDictionary.TryAdd is the gate: one winner per key, however many threads race.
        // An expired entry cannot be in the way: a request past its expiry is refused before the gate.
        return Task.FromResult(_decisions.TryAdd(decision.InternalId, decision));
    }

    public Task<CibaDecision?> FindAsync(string internalId, CancellationToken ct)
    {
        Sweep();
        return Task.FromResult(
            _decisions.TryGetValue(internalId, out var decision) && !IsExpired(decision) ? decision : null);
    }

    public Task RemoveAsync(CibaDecision decision, CancellationToken ct)
    {
        // Removes only this very entry, never a decision another request put there.
        _decisions.TryRemove(new KeyValuePair<string, CibaDecision>(decision.InternalId, decision));
        return Task.CompletedTask;
    }

    private bool IsExpired(CibaDecision decision) => decision.ExpiresAtUtc <= time.GetUtcNow().UtcDateTime;

    private void Sweep()
    {
        var now = time.GetUtcNow().UtcTicks;
        var due = Interlocked.Read(ref _nextSweepTicks);
        if (now < due || Interlocked.CompareExchange(ref _nextSweepTicks, now + SweepInterval.Ticks, due) != due)
        {
            return;
        }
        foreach (var entry in _decisions)
        {
            if (IsExpired(entry.Value))
            {
                _decisions.TryRemove(entry);
            }
        }
    }
}
