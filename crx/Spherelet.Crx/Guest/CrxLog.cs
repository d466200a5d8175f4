namespace Spherelet.Crx.Guest;

/// <summary>CRX's own log: one line per event on the console (the VM's serial log on the host).</summary>
internal static class CrxLog
{
    public static bool Debug { get; set; }

    public static void Info(string message) => Write("info", message);

    public static void Warn(string message) => Write("warn", message);

    public static void Verbose(string message)
    {
        if (Debug)
        {
            Write("debug", message);
        }
    }

    private static void Write(string level, string message) =>
        Console.Error.WriteLine($"crx {level}: {message}");
}
