namespace Spherelet.Crx.Containers;

/// <summary>A request CRX refuses or could not carry out; becomes Response.error.</summary>
internal sealed class CrxRequestException : Exception
{
    public CrxRequestException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public string Code { get; }
}
