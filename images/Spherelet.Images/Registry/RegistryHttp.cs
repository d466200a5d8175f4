using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Spherelet.Images.Registry;

/// <summary>
/// Sends registry requests: retries 429, 5xx and connection errors with exponential backoff (honouring
/// Retry-After), follows redirects itself so that credentials never go to another origin, and bounds the
/// wait for response headers.
/// </summary>
internal sealed partial class RegistryHttp : IDisposable
{
    /// <summary>How long one attempt may wait for response headers; bodies stream without a limit.</summary>
    public static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(60);

    private const int MaxRedirects = 10;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly ProductInfoHeaderValue UserAgent = new("spherelet", typeof(RegistryHttp).Assembly.GetName().Version?.ToString(3) ?? "0");
    private static readonly ResiliencePropertyKey<string> EndpointKey = new("spherelet.registry.endpoint");

    private readonly HttpMessageInvoker _verified;
    private readonly HttpMessageInvoker? _unverified;
    private readonly ResiliencePipeline<HttpResponseMessage> _retryAll;
    private readonly ResiliencePipeline<HttpResponseMessage> _retryResponses;
    private readonly ILogger _logger;

    /// <param name="handler">The handler to send through (tests); null builds one that does not follow redirects.</param>
    public RegistryHttp(RegistryOptions options, ILogger logger, HttpMessageHandler? handler)
    {
        _logger = logger;
        if (handler is null)
        {
            _verified = new HttpMessageInvoker(CreateHandler(skipTlsVerify: false), disposeHandler: true);
            if (options.Hosts.Values.Any(h => h.SkipTlsVerify))
            {
                _unverified = new HttpMessageInvoker(CreateHandler(skipTlsVerify: true), disposeHandler: true);
            }
        }
        else
        {
            _verified = new HttpMessageInvoker(handler, disposeHandler: false);
        }

        _retryAll = BuildPipeline(options, retryConnectionErrors: true);
        _retryResponses = BuildPipeline(options, retryConnectionErrors: false);
    }

    public static HttpRequestMessage Get(Uri uri, IEnumerable<string>? accept, AuthenticationHeaderValue? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        foreach (var mediaType in accept ?? [])
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        }

        request.Headers.Authorization = authorization;
        return request;
    }

    /// <summary>Sends a request built by <paramref name="request"/> (called once per attempt) and returns the final response, whatever its status.</summary>
    /// <param name="display">Names the endpoint in logs.</param>
    /// <param name="retryConnectionErrors">False for mirrors: an unreachable mirror is skipped at once.</param>
    /// <exception cref="HttpRequestException">The endpoint could not be reached (after the retries).</exception>
    /// <exception cref="TimeoutException">No response headers in time (after the retries).</exception>
    public async Task<HttpResponseMessage> SendAsync(
        string display,
        bool retryConnectionErrors,
        bool skipTlsVerify,
        Func<HttpRequestMessage> request,
        CancellationToken cancellationToken)
    {
        var invoker = skipTlsVerify && _unverified is not null ? _unverified : _verified;
        var pipeline = retryConnectionErrors ? _retryAll : _retryResponses;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(EndpointKey, display);
        try
        {
            return await pipeline.ExecuteAsync(
                static (ctx, state) => new ValueTask<HttpResponseMessage>(SendFollowingRedirectsAsync(state.invoker, state.request, ctx.CancellationToken)),
                context,
                (invoker, request));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public void Dispose()
    {
        _verified.Dispose();
        _unverified?.Dispose();
    }

    private static async Task<HttpResponseMessage> SendFollowingRedirectsAsync(
        HttpMessageInvoker invoker,
        Func<HttpRequestMessage> build,
        CancellationToken cancellationToken)
    {
        var request = build();
        for (var redirects = 0; ; redirects++)
        {
            var response = await SendOnceAsync(invoker, request, cancellationToken);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location)
            {
                return response;
            }

            response.Dispose();
            if (redirects == MaxRedirects)
            {
                throw new ImageException(ImageErrorKind.Unavailable, $"more than {MaxRedirects} redirects from {Origin(request.RequestUri!)}");
            }

            var target = location.IsAbsoluteUri ? location : new Uri(request.RequestUri!, location);
            if (target.Scheme is not ("http" or "https"))
            {
                throw new ImageException(ImageErrorKind.Unavailable, $"{Origin(request.RequestUri!)} redirected to a {target.Scheme} URL");
            }

            // Credentials go only to the origin they were meant for; a redirect to a blob store carries its own signature.
            var authorization = SameOrigin(request.RequestUri!, target) ? request.Headers.Authorization : null;
            request = Get(target, request.Headers.Accept.Select(a => a.MediaType!), authorization);
        }
    }

    private static async Task<HttpResponseMessage> SendOnceAsync(HttpMessageInvoker invoker, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.UserAgent.Add(UserAgent);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HeaderTimeout);
        try
        {
            return await invoker.SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Origin(request.RequestUri!)} sent no response headers within {HeaderTimeout.TotalSeconds:0} s");
        }
    }

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;

    private static string Origin(Uri uri) => uri.GetLeftPart(UriPartial.Authority);

    private static SocketsHttpHandler CreateHandler(bool skipTlsVerify)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseCookies = false,
        };
        if (skipTlsVerify)
        {
#pragma warning disable CA5359 // The operator turned verification off for this host (RegistryHostOptions.SkipTlsVerify).
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }

        return handler;
    }

    private ResiliencePipeline<HttpResponseMessage> BuildPipeline(RegistryOptions options, bool retryConnectionErrors)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (options.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.FirstRetryDelay,
                MaxDelay = MaxBackoff,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome, retryConnectionErrors)),
                DelayGenerator = static args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response) : null),
                OnRetry = args =>
                {
                    var reason = args.Outcome.Exception?.Message ?? $"HTTP {(int)args.Outcome.Result!.StatusCode}";
                    LogRetry(_logger, args.Context.Properties.GetValue(EndpointKey, "?"), args.AttemptNumber + 1, options.MaxAttempts, (long)args.RetryDelay.TotalMilliseconds, reason);
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            });
        }

        return builder.Build();
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome, bool retryConnectionErrors) =>
        outcome.Exception switch
        {
            null => outcome.Result!.StatusCode is HttpStatusCode.TooManyRequests || (int)outcome.Result.StatusCode >= 500,
            HttpRequestException or TimeoutException => retryConnectionErrors,
            _ => false,
        };

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (delay is not { } value)
        {
            return null;
        }

        return value < TimeSpan.Zero ? TimeSpan.Zero : value > MaxRetryAfter ? MaxRetryAfter : value;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "registry request failed, retrying endpoint={Endpoint} failed_attempt={Attempt}/{MaxAttempts} delay_ms={DelayMs} reason={Reason}")]
    private static partial void LogRetry(ILogger logger, string endpoint, int attempt, int maxAttempts, long delayMs, string reason);
}
