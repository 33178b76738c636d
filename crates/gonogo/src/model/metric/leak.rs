//! The soak/leak family: the trend of a resource over a soak phase, `leak.<resource>.<figure>`.

use crate::units::Unit;

/// A resource whose trend a soak phase checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeakResource {
    Rss,
    Fds,
    Threads,
}

impl LeakResource {
    pub const ALL: [LeakResource; 3] =
        [LeakResource::Rss, LeakResource::Fds, LeakResource::Threads];

    /// `rss`, `fds` or `threads`, as in metric names and the spec's `leak` table.
    pub fn name(self) -> &'static str {
        match self {
            LeakResource::Rss => "rss",
            LeakResource::Fds => "fds",
            LeakResource::Threads => "threads",
        }
    }

    /// The unit of the resource's level (its growth is this unit per hour).
    pub const fn unit(self) -> Unit {
        match self {
            LeakResource::Rss => Unit::Bytes,
            LeakResource::Fds | LeakResource::Threads => Unit::Count,
        }
    }

    /// The unit of the resource's growth.
    pub const fn rate_unit(self) -> Unit {
        match self {
            LeakResource::Rss => Unit::BytesPerHour,
            LeakResource::Fds | LeakResource::Threads => Unit::CountPerHour,
        }
    }
}

/// A growth per hour with the bounds of its confidence interval (a Theil–Sen slope
/// with Sen's interval, over some part of a soak's measured window).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakSlope {
    pub slope: f64,
    pub lower: f64,
    pub upper: f64,
}

impl LeakSlope {
    /// `grew by 1.00 MiB/h (95% CI [0.90 MiB/h, 1.10 MiB/h])` in `resource`'s rate unit.
    pub fn words(&self, resource: LeakResource) -> String {
        let rate = resource.rate_unit();
        format!(
            "{} (95% CI {})",
            crate::units::format::value(rate, self.slope),
            crate::units::format::interval(rate, self.lower, self.upper)
        )
    }
}

/// What a leak metric reads of a resource's trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeakFigure {
    /// Theil–Sen growth of the rolling minimum, per hour.
    Slope,
    /// Upper bound of the 95% confidence interval of the slope.
    SlopeUpper,
    /// 1 when the growth is a leak (interval excludes 0, growth ≥ the bound, and the
    /// growth persists to the end of the window: not a plateau).
    Detected,
    /// The level projected at the leak horizon after the phase's end.
    Projected,
}

impl LeakFigure {
    pub const ALL: [LeakFigure; 4] = [
        LeakFigure::Slope,
        LeakFigure::SlopeUpper,
        LeakFigure::Detected,
        LeakFigure::Projected,
    ];

    /// The unit of this figure of `resource`'s trend.
    pub const fn unit(self, resource: LeakResource) -> Unit {
        match self {
            LeakFigure::Slope | LeakFigure::SlopeUpper => resource.rate_unit(),
            LeakFigure::Detected => Unit::Boolean,
            LeakFigure::Projected => resource.unit(),
        }
    }
}

/// `(spec name, stored identifier)` of `leak.<resource>.<figure>`.
pub(super) const fn names(
    resource: LeakResource,
    figure: LeakFigure,
) -> (&'static str, &'static str) {
    use LeakFigure::{Detected, Projected, Slope, SlopeUpper};
    use LeakResource::{Fds, Rss, Threads};
    match (resource, figure) {
        (Rss, Slope) => ("leak.rss.slope", "LeakRssSlope"),
        (Rss, SlopeUpper) => ("leak.rss.slope_upper", "LeakRssSlopeUpper"),
        (Rss, Detected) => ("leak.rss.detected", "LeakRssDetected"),
        (Rss, Projected) => ("leak.rss.projected", "LeakRssProjected"),
        (Fds, Slope) => ("leak.fds.slope", "LeakFdsSlope"),
        (Fds, SlopeUpper) => ("leak.fds.slope_upper", "LeakFdsSlopeUpper"),
        (Fds, Detected) => ("leak.fds.detected", "LeakFdsDetected"),
        (Fds, Projected) => ("leak.fds.projected", "LeakFdsProjected"),
        (Threads, Slope) => ("leak.threads.slope", "LeakThreadsSlope"),
        (Threads, SlopeUpper) => ("leak.threads.slope_upper", "LeakThreadsSlopeUpper"),
        (Threads, Detected) => ("leak.threads.detected", "LeakThreadsDetected"),
        (Threads, Projected) => ("leak.threads.projected", "LeakThreadsProjected"),
    }
}
