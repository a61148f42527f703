using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace LlavaUhd.Edge.Service.Options;

/// <summary>
/// Checks every configured key against the options types before anything is bound: a key no option has (a typo such
/// as <c>Servce</c> or <c>Inference:Modle</c>) is a problem naming the nearest valid key, and a value that cannot be
/// read as its option's type is a problem naming the key and the type. The keys that pass are what gets bound, so one
/// bad value never hides the other problems of its section.
/// </summary>
internal static class ConfigurationKeys
{
    /// <summary>Sections read by others (the host's logging), and keys the command line's switches write.</summary>
    private static readonly string[] s_freeSections = ["Logging"];
    private static readonly string[] s_extraKeys = ["Service:ConfigFile", HostDefaults.ApplicationKey, HostDefaults.ContentRootKey, HostDefaults.EnvironmentKey];

    /// <summary>The configuration's effective keys that are known and readable; every other key becomes a problem.</summary>
    public static IConfiguration Check(IConfiguration configuration, List<string> problems)
    {
        var good = new List<KeyValuePair<string, string?>>();
        foreach ((string key, string? value) in configuration.AsEnumerable().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is null)
            {
                continue;   // a section, not a value
            }

            string[] path = key.Split(ConfigurationPath.KeyDelimiter);
            if (s_freeSections.Contains(path[0], StringComparer.OrdinalIgnoreCase) || s_extraKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                good.Add(new(key, value));
                continue;
            }

            if (Problem(path, value) is { } problem)
            {
                problems.Add(problem);
            }
            else
            {
                good.Add(new(key, value));
            }
        }

        return new ConfigurationBuilder().AddInMemoryCollection(good).Build();
    }

    private static string? Problem(string[] path, string value)
    {
        Type type = typeof(EdgeConfiguration);
        for (int i = 0; i < path.Length; i++)
        {
            string known = string.Join(ConfigurationPath.KeyDelimiter, path[..i]);
            if (ElementType(type) is { } element)
            {
                bool isList = type != typeof(string) && !IsDictionary(type);
                if (isList && !int.TryParse(path[i], NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return $"{Join(path, i + 1)}: '{known}' is a list; its items are numbered ({known}:0, {known}:1, …).";
                }

                type = element;
                continue;
            }

            if (IsLeaf(type))
            {
                return $"{Join(path, i + 1)}: unknown key; '{known}' is a value, not a section.";
            }

            PropertyInfo[] properties = Properties(type);
            PropertyInfo? match = properties.FirstOrDefault(p => string.Equals(p.Name, path[i], StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                string prefix = i == 0 ? string.Empty : known + ConfigurationPath.KeyDelimiter;
                string? nearest = Nearest(path[i], properties.Select(p => p.Name));
                return nearest is null
                    ? $"{Join(path, i + 1)}: unknown key."
                    : $"{Join(path, i + 1)}: unknown key; did you mean '{prefix}{nearest}'?";
            }

            type = match.PropertyType;
        }

        if (!IsLeaf(type))
        {
            return null;   // an empty section written as a value ("Zones": "") binds to nothing
        }

        Type target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string) || value.Length == 0)
        {
            return null;
        }

        try
        {
            TypeConverter converter = TypeDescriptor.GetConverter(target);
            _ = converter.ConvertFromInvariantString(value);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            string expected = target.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(target)) : TypeName(target);
            return $"{string.Join(ConfigurationPath.KeyDelimiter, path)}: '{value}' is not {expected}.";
        }
    }

    private static string Join(string[] path, int count) => string.Join(ConfigurationPath.KeyDelimiter, path[..count]);

    private static PropertyInfo[] Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.CanWrite || !IsLeaf(p.PropertyType)))
            .ToArray();

    private static bool IsLeaf(Type type)
    {
        Type t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan)
            || t == typeof(DateTimeOffset) || t == typeof(DateTime) || t == typeof(Guid) || t == typeof(Uri);
    }

    private static bool IsDictionary(Type type) =>
        type.IsGenericType && type.GetGenericArguments().Length == 2
        && type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));

    /// <summary>The item type of a list, array or string-keyed dictionary (whose keys are free); null for anything else.</summary>
    private static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (IsDictionary(type))
        {
            return type.GetGenericArguments()[1];
        }

        Type? enumerable = type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return type.IsGenericType && enumerable is not null ? enumerable.GetGenericArguments()[0] : null;
    }

    private static string TypeName(Type t) => t == typeof(int) || t == typeof(long) ? "a whole number"
        : t == typeof(double) || t == typeof(float) || t == typeof(decimal) ? "a number"
        : t == typeof(bool) ? "true or false"
        : t == typeof(TimeSpan) ? "a time span (hh:mm:ss)"
        : "a " + t.Name;

    /// <summary>The candidate closest to <paramref name="word"/> (case-insensitive edit distance), when it is close enough to be a typo.</summary>
    internal static string? Nearest(string word, IEnumerable<string> candidates)
    {
        // a typo (a small edit distance) or a shortened or overlong name (a long common start: Intervall → IntervalSeconds)
        string w = word.ToUpperInvariant();
        string? best = null;
        (bool Close, int Prefix, int Distance) bestScore = (false, 0, int.MaxValue);
        foreach (string c in candidates)
        {
            string u = c.ToUpperInvariant();
            int d = Distance(w, u);
            int prefix = 0;
            while (prefix < Math.Min(w.Length, u.Length) && w[prefix] == u[prefix])
            {
                prefix++;
            }

            bool close = d <= Math.Max(2, u.Length / 3) || (prefix >= 4 && prefix * 5 >= w.Length * 3);
            if (close && (!bestScore.Close || d < bestScore.Distance || (d == bestScore.Distance && prefix > bestScore.Prefix)))
            {
                (best, bestScore) = (c, (close, prefix, d));
            }
        }

        return best;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
