"""Journey analytics: one typed query and one runner per analysis (funnels, paths,
mined journeys, hand-off gaps, cohorts, KPIs, attribution), on any Ibis engine."""
