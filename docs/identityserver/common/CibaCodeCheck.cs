// CibaCodeCheck.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file for
// both: copy it with the files of v7/ or v8/).
//
// The code check (clients with the property ciba:verifyBindingMessage = "true"): the page shows the
// binding message and two look-alikes, and the person must pick the one the other device shows. The
// host, not the page, makes the look-alikes and checks the pick, so no client of the API can skip it:
// for such a request the API sends bindingMessageChoices and no bindingMessage, refuses an approval
// without the pick (400, type CibaJson.CodeRequiredProblem) or with a wrong one (400, type
// CibaJson.WrongCodeProblem), and after a wrong pick refuses every approval: only Deny is left.
//
// Duende has no place for the choices (BackChannelAuthenticationRequest has no property bag), so they
// live in a store keyed by InternalId until the request expires, made the first time the request is
// shown. The in-memory store is right for ONE host instance; several instances need a shared store
// (the same table or Redis as the decision record: an insert-if-absent for the choices, an update for
// the lock), or every instance would show other choices.
//
// The look-alikes keep every character of the message except "the code", as ciba-idp's
// idp/src/code_check.rs does: with decimal digits (any script), every digit becomes a random digit of
// the same script (ASCII stays ASCII, full-width stays full-width); else the letters of the last word
// become other letters of the same case (ASCII vowels stay vowels, consonants consonants; other scripts:
// a neighbouring code point that is a letter of the same case); else (only symbols or emoji) the last
// visible character becomes another one of its block.

using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CibaApproval;

/// <summary>A request's code check: the three choices in display order, and whether a wrong pick locked it.</summary>
public sealed record CibaCodeCheck(string InternalId, string[] Choices, bool Locked, DateTime ExpiresAtUtc);

public interface ICibaCodeCheckStore
{
    /// <summary>The request's check, made from its binding message on first use; the same choices every time.</summary>
    Task<CibaCodeCheck> GetOrCreateAsync(string internalId, string bindingMessage, DateTime expiresAtUtc, CancellationToken ct);

    /// <summary>Records a wrong pick: from now on only a denial completes the request.</summary>
    Task LockAsync(string internalId, CancellationToken ct);
}

/// <summary>A process-local store: right for a single host instance only (see above).</summary>
public sealed class InMemoryCibaCodeCheckStore(TimeProvider time) : ICibaCodeCheckStore
{
    private readonly ConcurrentDictionary<string, CibaCodeCheck> _checks = new(StringComparer.Ordinal);

    public Task<CibaCodeCheck> GetOrCreateAsync(string internalId, string bindingMessage, DateTime expiresAtUtc, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var entry in _checks)
        {
            if (entry.Value.ExpiresAtUtc <= now) _checks.TryRemove(entry);
        }
        // GetOrAdd may run the factory twice under a race, but stores and returns one result.
        return Task.FromResult(_checks.GetOrAdd(internalId,
            id => new CibaCodeCheck(id, CibaLookAlikes.Choices(bindingMessage), false, expiresAtUtc)));
    }

    public Task LockAsync(string internalId, CancellationToken ct)
    {
        _checks.AddOrUpdate(internalId,
            id => throw new InvalidOperationException($"No code check for {id}."),
            (_, check) => check with { Locked = true });
        return Task.CompletedTask;
    }
}

/// <summary>The binding message and two look-alikes a person cannot tell from it without the other device.</summary>
public static class CibaLookAlikes
{
    private const string AsciiSymbols = "#$%&*+=?@~^";
    private static readonly (int First, int Last)[] SymbolBlocks =
    [
        (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2500, 0x257F), (0x25A0, 0x25FF), (0x2600, 0x26FF),
        (0x2700, 0x27BF), (0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6C5),
    ];

    /// <summary>Three distinct strings, the message among them, in a random order.</summary>
    public static string[] Choices(string message)
    {
        var choices = new List<string> { message };
        for (var attempt = 0; attempt < 200 && choices.Count < 3; attempt++)
        {
            var decoy = LookAlike(message);
            if (!choices.Contains(decoy)) choices.Add(decoy);
        }
        var runes = message.EnumerateRunes().ToArray();
        var last = Array.FindLastIndex(runes, r => !Rune.IsWhiteSpace(r) && !IsMark(r));
        foreach (var symbol in AsciiSymbols)
        {
            if (choices.Count == 3) break;
            var decoy = Replace(runes, last < 0 ? runes.Length - 1 : last, new Rune(symbol));
            if (!choices.Contains(decoy)) choices.Add(decoy);
        }
        return [.. choices.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue))];
    }

    private static string LookAlike(string message)
    {
        var runes = message.EnumerateRunes().ToArray();
        if (runes.Any(r => Rune.GetUnicodeCategory(r) == UnicodeCategory.DecimalDigitNumber))
        {
            return string.Concat(runes.Select(r => Rune.GetUnicodeCategory(r) == UnicodeCategory.DecimalDigitNumber
                ? new Rune(r.Value - (int)Rune.GetNumericValue(r) + RandomNumberGenerator.GetInt32(10)).ToString()
                : r.ToString()));
        }
        var end = Array.FindLastIndex(runes, IsLetter);
        if (end >= 0)
        {
            var start = end;
            while (start > 0 && (IsLetter(runes[start - 1]) || IsMark(runes[start - 1]))) start--;
            var result = (Rune[])runes.Clone();
            for (var i = start; i <= end; i++)
            {
                if (IsLetter(runes[i])) result[i] = OtherLetter(runes[i]);
            }
            return string.Concat(result.Select(r => r.ToString()));
        }
        var last = Array.FindLastIndex(runes, r => !Rune.IsWhiteSpace(r) && !IsMark(r));
        if (last < 0) last = runes.Length - 1;
        return Replace(runes, last, OtherSymbol(runes[last]));
    }

    private static bool IsMark(Rune r) => Rune.GetUnicodeCategory(r)
        is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    private static bool IsLetter(Rune r) => Rune.IsLetter(r);

    private static Rune OtherLetter(Rune r)
    {
        if (r.IsAscii)
        {
            var vowel = "aeiouAEIOU".Contains((char)r.Value);
            var set = (Rune.IsUpper(r), vowel) switch
            {
                (true, true) => "AEIOU",
                (true, false) => "BCDFGHKLMNPRSTVWZ",
                (false, true) => "aeiou",
                (false, false) => "bcdfghklmnprstvwz",
            };
            return new Rune(set[RandomNumberGenerator.GetInt32(set.Length)]);
        }
        var neighbours = Enumerable.Range(Math.Max(0, r.Value - 16), 33)
            .Where(n => n != r.Value && Rune.IsValid(n))
            .Select(n => new Rune(n))
            .Where(n => !n.IsAscii && IsLetter(n) && Rune.IsUpper(n) == Rune.IsUpper(r) && Rune.IsLower(n) == Rune.IsLower(r))
            .ToArray();
        return neighbours.Length == 0 ? r : neighbours[RandomNumberGenerator.GetInt32(neighbours.Length)];
    }

    private static Rune OtherSymbol(Rune r)
    {
        foreach (var (first, last) in SymbolBlocks)
        {
            if (r.Value >= first && r.Value <= last) return new Rune(RandomNumberGenerator.GetInt32(first, last + 1));
        }
        if (r.Value >= 0x1F000) return new Rune(RandomNumberGenerator.GetInt32(0x1F600, 0x1F650));
        var others = AsciiSymbols.Where(c => c != r.Value).ToArray();
        return new Rune(others[RandomNumberGenerator.GetInt32(others.Length)]);
    }

    private static string Replace(Rune[] runes, int index, Rune replacement) =>
        string.Concat(runes.Select((r, i) => (i == index ? replacement : r).ToString()));
}
