using System.Text.Json;

namespace Spherelet.Streaming;

/// <summary>A terminal's window size, as clients send it on the resize channel: <c>{"Width":80,"Height":24}</c>.</summary>
public readonly record struct TerminalSize(uint Width, uint Height)
{
    /// <summary>The sizes in a chunk of the resize channel (one JSON object or several in a row); what cannot be read is skipped.</summary>
    public static IReadOnlyList<TerminalSize> ParseAll(ReadOnlySpan<byte> json)
    {
        var sizes = new List<TerminalSize>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowMultipleValues = true });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    continue;
                }

                using var document = JsonDocument.ParseValue(ref reader);
                var root = document.RootElement;
                if (root.TryGetProperty(nameof(Width), out var width) && root.TryGetProperty(nameof(Height), out var height)
                    && width.TryGetUInt32(out var w) && height.TryGetUInt32(out var h))
                {
                    sizes.Add(new TerminalSize(w, h));
                }
            }
        }
        catch (JsonException)
        {
            // A broken object ends what can be read; the sizes before it count.
        }

        return sizes;
    }
}
