using ZtGateway.Policy.Configuration;

namespace ZtGateway.Policy.Engine;

/// <summary>
/// One segment's routes, most specific first, so that the first route that takes a request is the one ASP.NET
/// Core endpoint routing would pick. Immutable.
/// </summary>
internal sealed class SegmentRouteTable
{
    private readonly CompiledRoute[] routes;

    /// <summary>Compiles the routes of <paramref name="segment"/>.</summary>
    public SegmentRouteTable(SegmentConfig segment, SourceSegments sources)
    {
        Name = segment.Name;
        var compiled = new CompiledRoute[segment.Routes.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            compiled[i] = new CompiledRoute(segment, segment.Routes[i], i, sources);
        }

        Array.Sort(compiled, static (x, y) =>
        {
            var bySpecificity = CompiledPathTemplate.CompareSpecificity(x.Template, y.Template);
            return bySpecificity != 0 ? bySpecificity : x.Order.CompareTo(y.Order);
        });
        routes = compiled;

        RouteNotFound = new Decision { Allowed = false, Reason = ReasonCode.RouteNotFound, DestinationSegment = Name };
        PathInvalid = new Decision { Allowed = false, Reason = ReasonCode.PathInvalid, DestinationSegment = Name };
    }

    /// <summary>The segment's name.</summary>
    public string Name { get; }

    /// <summary>Routes, most specific first.</summary>
    public IReadOnlyList<CompiledRoute> Routes => routes;

    /// <summary>The answer when no route takes a request.</summary>
    public Decision RouteNotFound { get; }

    /// <summary>The answer when the request path is ambiguous (<see cref="RequestPath.IsUnambiguous"/>).</summary>
    public Decision PathInvalid { get; }

    /// <summary>The most specific route that takes <paramref name="method"/> on <paramref name="path"/>, or null.</summary>
    public CompiledRoute? Match(string method, string path)
    {
        if (!RequestPath.IsCanonical(path))
        {
            return null;
        }

        foreach (var route in routes)
        {
            if (route.Matches(method, path))
            {
                return route;
            }
        }

        return null;
    }
}
