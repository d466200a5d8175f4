namespace Spherelet.Crx.Guest;

/// <summary>
/// CRX's settings, read from the kernel command line when it runs as PID 1:
/// <c>spherelet.channel=NAME</c> (virtio-serial port), <c>spherelet.share=TAG</c> (9p
/// tag of the pod share, mounted at /pod, where the host binds the image layers of the pod's
/// containers too), <c>spherelet.log=debug|info</c>.
/// </summary>
internal sealed record GuestSettings(string ChannelName, string? ShareTag, bool Debug)
{
    public const string ShareMountPoint = "/pod";

    public static GuestSettings FromCommandLine(string cmdline)
    {
        ArgumentNullException.ThrowIfNull(cmdline);
        var channel = Protocol.CrxProtocol.DefaultChannelName;
        string? share = null;
        var debug = false;
        foreach (var word in cmdline.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                continue;
            }

            var value = word[(eq + 1)..];
            switch (word[..eq])
            {
                case "spherelet.channel" when value.Length > 0:
                    channel = value;
                    break;
                case "spherelet.share" when value.Length > 0:
                    share = value;
                    break;
                case "spherelet.log":
                    debug = value == "debug";
                    break;
            }
        }

        return new GuestSettings(channel, share, debug);
    }
}
