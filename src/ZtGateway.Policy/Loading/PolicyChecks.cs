using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Policy.Loading;

/// <summary>Checks that need every file at once: segment names, <c>from</c> references, members, listeners and sign-in.</summary>
internal static class PolicyChecks
{
    public static void Run(GatewayFile gateway, IReadOnlyList<SegmentFile> segments, DiagnosticBag diagnostics)
    {
        CheckSegmentNames(segments, diagnostics);
        CheckFromReferences(segments, diagnostics);
        CheckWorkloads(segments, diagnostics);
        CheckListeners(gateway, segments, diagnostics);
        CheckSignIn(gateway, segments, diagnostics);
        BindingChecks.Run(gateway, segments, diagnostics);
    }

    private static void CheckSegmentNames(IReadOnlyList<SegmentFile> segments, DiagnosticBag diagnostics)
    {
        var first = new Dictionary<string, SegmentFile>(StringComparer.Ordinal);
        foreach (var segment in segments)
        {
            if (segment.NameNode is not { } name)
            {
                continue;
            }

            if (!first.TryAdd(name.Value, segment))
            {
                diagnostics.Error(name.Location, $"segment '{name.Value}' is already defined in {FileName(first[name.Value].FilePath)}");
            }
        }
    }

    private static void CheckFromReferences(IReadOnlyList<SegmentFile> segments, DiagnosticBag diagnostics)
    {
        // Written names count even when malformed: their own error is enough, without one more per rule.
        var known = segments.Where(s => s.NameNode is not null).Select(s => s.NameNode!.Value).ToHashSet(StringComparer.Ordinal);
        foreach (var reference in segments.SelectMany(s => s.FromReferences))
        {
            var name = reference.Segment.Value;
            if (name is not (Names.AnySegment or Names.UnknownSegment) && !known.Contains(name))
            {
                diagnostics.Error(reference.Segment.Location, $"{reference.Where}: from names unknown segment '{name}'");
            }
        }
    }

    private static void CheckWorkloads(IReadOnlyList<SegmentFile> segments, DiagnosticBag diagnostics)
    {
        var owners = new Dictionary<string, SegmentFile>(StringComparer.Ordinal);
        foreach (var segment in segments)
        {
            foreach (var workload in segment.Workloads)
            {
                if (!owners.TryAdd(workload.Value, segment))
                {
                    var owner = owners[workload.Value];
                    diagnostics.Error(
                        workload.Location,
                        ReferenceEquals(owner, segment)
                            ? $"workload '{workload.Value}' is listed twice in 'members.workloads'"
                            : $"workload '{workload.Value}' is already a member of segment '{owner.Config.Name}' ({FileName(owner.FilePath)})");
                }
            }
        }
    }

    private static void CheckListeners(GatewayFile gateway, IReadOnlyList<SegmentFile> segments, DiagnosticBag diagnostics)
    {
        var earlier = new List<(ListenAddress Listen, string Description)>();
        if (gateway.ManagementListen is { } management)
        {
            earlier.Add((management, $"the management listener '{management.Text}' ({FileName(gateway.Config.FilePath)})"));
        }

        foreach (var segment in segments)
        {
            if (segment.Listen is not { } listen)
            {
                continue;
            }

            var clash = earlier.FirstOrDefault(e => e.Listen.Overlaps(listen));
            if (clash.Listen is not null)
            {
                diagnostics.Error(segment.ListenLocation, $"listen '{listen.Text}' overlaps {clash.Description}");
            }

            earlier.Add((listen, $"the listener '{listen.Text}' of segment '{segment.Config.Name}' ({FileName(segment.FilePath)})"));
        }
    }

    private static void CheckSignIn(GatewayFile gateway, IReadOnlyList<SegmentFile> segments, DiagnosticBag diagnostics)
    {
        if (gateway.SignInWritten)
        {
            return;
        }

        foreach (var segment in segments.Where(s => s.Config.SignIn))
        {
            diagnostics.Error(segment.SignInLocation,
                $"'signIn' is true, but {FileName(gateway.Config.FilePath)} has no 'signIn' section; add one naming the issuer, " +
                "clientId and clientSecretFile people sign in with");
        }
    }

    private static string FileName(string path) => Path.GetFileName(path);
}
