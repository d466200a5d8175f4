namespace Spherelet.Images.Registry;

/// <summary>Reads response bodies with an upper bound, so a misbehaving server cannot fill memory.</summary>
internal static class RegistryContent
{
    /// <returns>The body, or null when it is longer than <paramref name="limit"/> bytes.</returns>
    public static async Task<byte[]?> ReadLimitedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } length && length > limit)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
