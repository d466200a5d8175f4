using System.Collections.Concurrent;
using System.Security.Cryptography;
using Spherelet.Libvirt;

namespace Spherelet.IntegrationTests.Libvirt;

/// <summary>
/// The libvirt binding against the real libvirtd (qemu:///system, so root), with a tiny
/// domain that boots no OS: no disks, 64 MiB, QEMU's TCG. Every domain a test defines is
/// destroyed and undefined when it ends, whatever happened.
/// </summary>
public sealed class LibvirtBindingTests : IDisposable
{
    private const string Uri = "qemu:///system";
    private const string MetadataNamespace = "urn:spherelet:test:1";
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);

    private readonly LibvirtConnection _connection = LibvirtConnection.Open(Uri);
    private readonly string _name = "sph-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public void Dispose()
    {
        try
        {
            using var leftover = _connection.LookupDomainByName(_name);
            if (leftover is not null)
            {
                leftover.Destroy();
                leftover.Undefine();
            }
        }
        finally
        {
            _connection.Dispose();
        }
    }

    [Fact]
    public void Defined_domain_is_found_by_name_and_uuid_and_shows_its_xml_and_metadata()
    {
        using var domain = _connection.DefineDomain(DomainXml(_name));

        using var byName = _connection.LookupDomainByName(_name);
        using var byUuid = _connection.LookupDomainByUuid(domain.Uuid);
        var all = _connection.ListAllDomains();
        try
        {
            Assert.NotNull(byName);
            Assert.Equal(domain.Uuid, byName.Uuid);
            Assert.NotNull(byUuid);
            Assert.Equal(_name, byUuid.Name);
            Assert.Contains(all, d => d.Name == _name && d.Uuid == domain.Uuid);
        }
        finally
        {
            foreach (var listed in all)
            {
                listed.Dispose();
            }
        }

        Assert.Contains($"<name>{_name}</name>", domain.GetXml(), StringComparison.Ordinal);
        var metadata = domain.GetMetadataElement(MetadataNamespace);
        Assert.NotNull(metadata);
        Assert.Contains("owner", metadata, StringComparison.Ordinal);
        Assert.Contains("binding-test", metadata, StringComparison.Ordinal);
        Assert.Null(domain.GetMetadataElement("urn:spherelet:absent:1"));

        var (state, _) = domain.GetState();
        var info = domain.GetInfo();
        Assert.Equal(DomainState.Shutoff, state);
        Assert.Equal(DomainState.Shutoff, info.State);
        Assert.Equal(64UL * 1024, info.MaxMemoryKiB);
        Assert.Equal(1U, info.VirtualCpus);
        Assert.Null(_connection.LookupDomainByUuid(Guid.NewGuid()));
    }

    [Fact]
    public void Started_domain_runs_sends_started_and_destroyed_events_and_is_gone_after_undefine()
    {
        using var events = new BlockingCollection<DomainLifecycleEvent>();
        using var subscription = _connection.SubscribeLifecycleEvents(e =>
        {
            if (e.DomainName == _name)
            {
                events.Add(e);
            }
        });
        using var domain = _connection.DefineDomain(DomainXml(_name));

        domain.Create();

        Assert.Equal(DomainState.Running, domain.GetState().State);
        var started = WaitFor(events, DomainEventType.Started);
        Assert.Equal(domain.Uuid, started.Uuid);
        var info = domain.GetInfo();
        Assert.Equal(DomainState.Running, info.State);
        Assert.True(info.CpuTimeNanoseconds > 0);

        Assert.True(domain.Destroy());

        var stopped = WaitFor(events, DomainEventType.Stopped);
        Assert.Equal(1, stopped.Detail); // VIR_DOMAIN_EVENT_STOPPED_DESTROYED
        Assert.Equal(DomainState.Shutoff, domain.GetState().State);
        Assert.False(domain.Destroy());

        domain.Undefine();

        Assert.Null(_connection.LookupDomainByName(_name));
        WaitFor(events, DomainEventType.Undefined);
    }

    [Fact]
    public void Handler_that_throws_does_not_stop_other_subscribers()
    {
        using var events = new BlockingCollection<DomainLifecycleEvent>();
        using var throwing = _connection.SubscribeLifecycleEvents(_ => throw new InvalidOperationException("handler failure on purpose"));
        using var subscription = _connection.SubscribeLifecycleEvents(e =>
        {
            if (e.DomainName == _name)
            {
                events.Add(e);
            }
        });

        using var domain = _connection.DefineDomain(DomainXml(_name));
        WaitFor(events, DomainEventType.Defined);
        domain.Undefine();
        WaitFor(events, DomainEventType.Undefined);
    }

    private static DomainLifecycleEvent WaitFor(BlockingCollection<DomainLifecycleEvent> events, DomainEventType type)
    {
        var deadline = DateTime.UtcNow + EventTimeout;
        var seen = new List<DomainLifecycleEvent>();
        while (events.TryTake(out var next, Max(deadline - DateTime.UtcNow, TimeSpan.Zero)))
        {
            if (next.Type == type)
            {
                return next;
            }

            seen.Add(next);
        }

        Assert.Fail($"no {type} event within {EventTimeout.TotalSeconds} s; saw: {string.Join(", ", seen)}");
        return default;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static string DomainXml(string name) => $"""
        <domain type='qemu'>
          <name>{name}</name>
          <memory unit='MiB'>64</memory>
          <vcpu>1</vcpu>
          <metadata>
            <test:owner xmlns:test='{MetadataNamespace}'>binding-test</test:owner>
          </metadata>
          <os>
            <type arch='x86_64' machine='q35'>hvm</type>
          </os>
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>destroy</on_reboot>
          <on_crash>destroy</on_crash>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
          </devices>
        </domain>
        """;
}
