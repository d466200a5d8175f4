using System.Globalization;

namespace Spherelet.IntegrationTests.Metrics;

/// <summary>
/// A strict reader of the Prometheus text exposition format (0.0.4): <c># TYPE</c> lines, and samples
/// <c>name{label="value",...} number</c>. A line it cannot read fails the test that scraped it.
/// </summary>
public sealed class PrometheusText
{
    public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);

    public List<(string Name, Dictionary<string, string> Labels, double Value)> Samples { get; } = [];

    /// <summary>Scrapes <c>http://127.0.0.1:PORT/metrics</c> and parses what it serves.</summary>
    public static async Task<PrometheusText> ScrapeAsync(int port)
    {
        using var http = new HttpClient();
        return Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/metrics")));
    }

    /// <summary>A TCP port on 127.0.0.1 that nothing listened on a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static PrometheusText Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new PrometheusText();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ');
                Assert.True(parts.Length == 2, $"bad TYPE line: {line}");
                result.Types[parts[0]] = parts[1];
                continue;
            }

            Assert.False(line.StartsWith('#'), $"unknown comment line: {line}");
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            Assert.True(space > 0, $"a sample without a value: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            string name;
            if (brace >= 0 && brace < space)
            {
                name = line[..brace];
                var close = line.LastIndexOf('}');
                Assert.True(close > brace, $"unclosed labels: {line}");
                foreach (var pair in SplitLabels(line[(brace + 1)..close]))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    Assert.True(equals > 0 && pair[equals + 1] == '"' && pair[^1] == '"', $"bad label {pair} in: {line}");
                    labels[pair[..equals]] = pair[(equals + 2)..^1];
                }
            }
            else
            {
                name = line[..space];
            }

            Assert.Matches("^[a-zA-Z_:][a-zA-Z0-9_:]*$", name);
            var value = line[(space + 1)..] switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            result.Samples.Add((name, labels, value));
        }

        return result;
    }

    /// <summary>The value of the one sample of <paramref name="name"/> with these labels (and maybe others).</summary>
    public double Value(string name, params (string Name, string Value)[] labels) =>
        Assert.Single(Samples, s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value)).Value;

    private static IEnumerable<string> SplitLabels(string labels)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] == '"' && (i == 0 || labels[i - 1] != '\\'))
            {
                quoted = !quoted;
            }
            else if (labels[i] == ',' && !quoted)
            {
                yield return labels[start..i];
                start = i + 1;
            }
        }

        if (start < labels.Length)
        {
            yield return labels[start..];
        }
    }
}
