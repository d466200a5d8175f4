using System.Buffers.Binary;
using System.Text;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// The zlib dictionary of SPDY/3 header blocks (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): common header
/// names, each after its length as a 32-bit big-endian number, then common values run together.
/// </summary>
internal static class SpdyHeaderDictionary
{
    private static readonly string[] Words =
    [
        "options", "head", "post", "put", "delete", "trace",
        "accept", "accept-charset", "accept-encoding", "accept-language", "accept-ranges",
        "age", "allow", "authorization", "cache-control", "connection",
        "content-base", "content-encoding", "content-language", "content-length", "content-location",
        "content-md5", "content-range", "content-type",
        "date", "etag", "expect", "expires", "from", "host",
        "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since",
        "last-modified", "location", "max-forwards", "pragma",
        "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
        "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
        "vary", "via", "warning", "www-authenticate",
        "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
        "set-cookie", "keep-alive", "origin",
    ];

    private const string Tail =
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
        "203 Non-Authoritative Information" +
        "204 No Content" +
        "301 Moved Permanently" +
        "400 Bad Request" +
        "401 Unauthorized" +
        "403 Forbidden" +
        "404 Not Found" +
        "500 Internal Server Error" +
        "501 Not Implemented" +
        "503 Service Unavailable" +
        "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 " +
        "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
        "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml," +
        "text/plain,text/javascript,public" +
        "private" +
        "max-age=" +
        "gzip,deflate,sdch" +
        "charset=utf-8" +
        "charset=iso-8859-1,utf-,*,enq=0.";

    /// <summary>The dictionary bytes (1423 of them).</summary>
    public static byte[] Bytes { get; } = Build();

    /// <summary>The Adler-32 checksum of the dictionary, which a zlib stream using it names in its header.</summary>
    public static uint Adler32 { get; } = ComputeAdler32(Bytes);

    private static byte[] Build()
    {
        var bytes = new List<byte>(1423);
        Span<byte> length = stackalloc byte[4];
        foreach (var word in Words)
        {
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)word.Length);
            bytes.AddRange(length);
            bytes.AddRange(Encoding.ASCII.GetBytes(word));
        }

        bytes.AddRange(Encoding.ASCII.GetBytes(Tail));
        return [.. bytes];
    }

    private static uint ComputeAdler32(byte[] data)
    {
        const uint Modulus = 65521;
        uint a = 1, b = 0;
        foreach (var value in data)
        {
            a = (a + value) % Modulus;
            b = (b + a) % Modulus;
        }

        return (b << 16) | a;
    }
}
