namespace ZtGateway.Policy.Configuration;

/// <summary>What the detector does on a finding.</summary>
public enum DetectionResponse
{
    /// <summary>Raise a finding only.</summary>
    Alert,

    /// <summary>Raise a finding and quarantine the principal or device for <see cref="DetectionSettings.ContainFor"/>.</summary>
    Contain,
}

/// <summary>The <c>detection:</c> section.</summary>
public sealed record DetectionSettings
{
    /// <summary>Sliding window. Defaults to 10 minutes.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Denials per principal or device within the window before a finding. Defaults to 20.</summary>
    public int MaxDenials { get; init; } = 20;

    /// <summary>Distinct destination segments within the window before a finding. Defaults to 3.</summary>
    public int MaxSegments { get; init; } = 3;

    /// <summary>Distinct routes (of any segment) within the window before a finding. Defaults to 10.</summary>
    public int MaxRoutes { get; init; } = 10;

    /// <summary>Time before first-seen segment pairs raise findings. Defaults to 24 hours.</summary>
    public TimeSpan LearningPeriod { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Defaults to <see cref="DetectionResponse.Alert"/>.</summary>
    public DetectionResponse Response { get; init; } = DetectionResponse.Alert;

    /// <summary>Quarantine length in contain mode. Defaults to 30 minutes.</summary>
    public TimeSpan ContainFor { get; init; } = TimeSpan.FromMinutes(30);
}
