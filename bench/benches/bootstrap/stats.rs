//! Percentiles, the result table, the JSON document and the plot of the latency distributions.

use std::fmt::Write as _;

/// The latencies (milliseconds) and peak RSS (KiB, per stage) of one candidate in one scenario.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub ours: bool,
    pub ms: Vec<f64>,
    pub rss_kib: [Vec<u64>; 3],
    /// CPU time of all stages (µs) and their minor page faults, per run.
    pub cpu_us: Vec<f64>,
    pub minflt: Vec<u64>,
    pub failures: Vec<String>,
}

impl Series {
    pub fn record(&mut self, s: &crate::driver::Sample) {
        self.ms.push(s.latency.as_secs_f64() * 1e3);
        for (k, r) in s.maxrss_kib.iter().enumerate() {
            if let Some(r) = r {
                self.rss_kib[k].push(*r);
            }
        }
        self.cpu_us.push(s.cpu.as_secs_f64() * 1e6);
        self.minflt.push(s.minflt);
    }

    /// The median of a per-run figure.
    fn median_of<T: Copy + PartialOrd + Into<f64>>(v: &[T]) -> f64 {
        let mut v: Vec<f64> = v.iter().map(|x| (*x).into()).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }

    pub fn median_cpu_us(&self) -> f64 {
        Self::median_of(&self.cpu_us)
    }

    pub fn median_minflt(&self) -> f64 {
        Self::median_of(&self.minflt.iter().map(|&m| m as f64).collect::<Vec<_>>())
    }
    pub fn sort(&mut self) {
        self.ms.sort_by(|a, b| a.total_cmp(b));
    }

    /// The `p`-quantile (0..=1) of the sorted latencies, nearest rank.
    pub fn quantile(&self, p: f64) -> f64 {
        if self.ms.is_empty() {
            return f64::NAN;
        }
        let i = ((self.ms.len() as f64 - 1.0) * p).round() as usize;
        self.ms[i.min(self.ms.len() - 1)]
    }

    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// The largest peak RSS seen for a stage, in KiB.
    pub fn max_rss(&self, stage: usize) -> Option<u64> {
        self.rss_kib[stage].iter().copied().max()
    }
}

/// One scenario's results.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub series: Vec<Series>,
}

impl Scenario {
    pub fn get(&self, name: &str) -> Option<&Series> {
        self.series
            .iter()
            .find(|s| s.name == name && !s.ms.is_empty())
    }

    /// The median of `a` over the median of `b`.
    pub fn ratio(&self, a: &str, b: &str) -> Option<f64> {
        Some(self.get(a)?.median() / self.get(b)?.median())
    }
}

fn rss(v: Option<u64>) -> String {
    v.map_or("-".into(), |k| format!("{:.2}", k as f64 / 1024.0))
}

/// The table a person reads.
pub fn table(scenarios: &[Scenario], floor: &str, ours: &str, peers: &[&str]) -> String {
    let mut out = String::new();
    for sc in scenarios {
        let _ = writeln!(out, "\n{}", sc.name);
        let _ = writeln!(
            out,
            "{:<40} {:>5} {:>8} {:>8} {:>8} {:>9}  {:>6} {:>6} {:>6} {:>7} {:>6}",
            "candidate",
            "runs",
            "median",
            "p90",
            "p99",
            "vs floor",
            "rss0",
            "rss1",
            "rss2",
            "cpu µs",
            "faults"
        );
        let floor_median = sc.get(floor).map(Series::median);
        for s in &sc.series {
            if s.ms.is_empty() {
                let _ = writeln!(
                    out,
                    "{:<40} no successful run ({} failures; first: {})",
                    s.name,
                    s.failures.len(),
                    s.failures.first().map_or("", String::as_str)
                );
                continue;
            }
            let vs = floor_median.map_or("-".into(), |f| format!("{:.2}x", s.median() / f));
            let _ = writeln!(
                out,
                "{:<40} {:>5} {:>8.3} {:>8.3} {:>8.3} {:>9}  {:>6} {:>6} {:>6} {:>7.0} {:>6.0}",
                s.name,
                s.ms.len(),
                s.median(),
                s.quantile(0.9),
                s.quantile(0.99),
                vs,
                rss(s.max_rss(0)),
                rss(s.max_rss(1)),
                rss(s.max_rss(2)),
                s.median_cpu_us(),
                s.median_minflt(),
            );
            if !s.failures.is_empty() {
                let _ = writeln!(
                    out,
                    "{:<40} {} FAILED runs; first: {}",
                    "",
                    s.failures.len(),
                    s.failures[0]
                );
            }
        }
        // Each build of ours against the floor of the same build ("name [label]" pairs).
        let labels = sc
            .series
            .iter()
            .filter_map(|s| s.name.strip_prefix(ours))
            .filter(|l| l.is_empty() || l.starts_with(" ["));
        for label in labels {
            let (o, f) = (format!("{ours}{label}"), format!("{floor}{label}"));
            if let Some(r) = sc.ratio(&o, &f) {
                let _ = writeln!(out, "{o} / {f}: {r:.2}x (goal: at most 1.10x)");
            }
            for p in peers {
                if let Some(r) = sc.ratio(p, &o) {
                    let goal = if p.starts_with("runc") {
                        " (goal: at least 1.6x)"
                    } else {
                        ""
                    };
                    let _ = writeln!(out, "{p} / {o}: {r:.2}x{goal}");
                }
            }
        }
    }
    out.push_str(
        "\nmilliseconds from spawn to PID report; rss0..2: peak RSS of stage 0, 1, 2 in MiB (the largest \
         seen); cpu µs and faults: CPU time and minor page faults of all stages together (median)\n",
    );
    out
}

/// Everything as JSON, raw latencies included.
pub fn json(scenarios: &[Scenario], meta: serde_json::Value) -> serde_json::Value {
    let sc: Vec<serde_json::Value> = scenarios
        .iter()
        .map(|sc| {
            let series: Vec<serde_json::Value> = sc
                .series
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "candidate": s.name,
                        "ours": s.ours,
                        "runs": s.ms.len(),
                        "failures": s.failures,
                        "median_ms": s.median(),
                        "p90_ms": s.quantile(0.9),
                        "p99_ms": s.quantile(0.99),
                        "max_rss_kib": [s.max_rss(0), s.max_rss(1), s.max_rss(2)],
                        "median_cpu_us": s.median_cpu_us(),
                        "median_minor_faults": s.median_minflt(),
                        "latencies_ms": s.ms,
                    })
                })
                .collect();
            serde_json::json!({ "scenario": sc.name, "series": series })
        })
        .collect();
    serde_json::json!({ "meta": meta, "scenarios": sc })
}

const COLORS: [&str; 8] = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#e6ab02", "#666666",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The empirical distribution functions of the latencies, one panel per scenario, as an SVG document.
pub fn svg(scenarios: &[Scenario], title: &str) -> String {
    // The legend's width follows the longest label (about 7 px a character at 12 px).
    let longest = scenarios
        .iter()
        .flat_map(|sc| &sc.series)
        .map(|s| s.name.chars().count() + 10)
        .max()
        .unwrap_or(20);
    let (ph, ml, mt, mb) = (260.0, 60.0, 30.0, 45.0);
    let mr = 50.0 + 7.0 * longest as f64;
    let w = 510.0 + mr;
    let plot_w = w - ml - mr;
    let plot_h = ph - mt - mb;
    let h = 40.0 + ph * scenarios.len() as f64;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    for (k, sc) in scenarios.iter().enumerate() {
        let top = 40.0 + ph * k as f64;
        // The x axis ends past the largest p99, so that one outlier does not flatten the curves.
        let xmax = sc
            .series
            .iter()
            .filter(|s| !s.ms.is_empty())
            .map(|s| s.quantile(0.99))
            .fold(0.0f64, f64::max)
            * 1.1;
        let step = nice_step(xmax / 6.0);
        let xmax = (xmax / step).ceil() * step;
        let x = |v: f64| ml + plot_w * (v / xmax).min(1.0);
        let y = |f: f64| top + mt + plot_h * (1.0 - f);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
            ml,
            top + mt - 8.0,
            esc(&sc.name)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{ml}" y="{}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>"##,
            top + mt
        );
        let mut t = 0.0;
        while t <= xmax + step / 2.0 {
            let _ = writeln!(
                s,
                r##"<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="#ddd"/><text x="{0}" y="{3}" text-anchor="middle">{4}</text>"##,
                x(t),
                top + mt,
                top + mt + plot_h,
                top + mt + plot_h + 15.0,
                trim(t)
            );
            t += step;
        }
        for f in [0.0, 0.5, 0.9, 1.0] {
            let _ = writeln!(
                s,
                r##"<line x1="{ml}" x2="{0}" y1="{1}" y2="{1}" stroke="#ddd"/><text x="{2}" y="{3}" text-anchor="end">{f}</text>"##,
                ml + plot_w,
                y(f),
                ml - 5.0,
                y(f) + 4.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">milliseconds from spawn to PID report (fraction of runs at or below)</text>"#,
            ml + plot_w / 2.0,
            top + mt + plot_h + 32.0
        );
        for (i, ser) in sc.series.iter().filter(|s| !s.ms.is_empty()).enumerate() {
            let color = COLORS[i % COLORS.len()];
            let n = ser.ms.len() as f64;
            let mut pts = String::new();
            let mut prev = 0.0;
            for (j, v) in ser.ms.iter().enumerate() {
                let _ = write!(pts, "{:.1},{:.1} ", x(*v), y(prev));
                prev = (j + 1) as f64 / n;
                let _ = write!(pts, "{:.1},{:.1} ", x(*v), y(prev));
            }
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{pts}"/>"#
            );
            let ly = top + mt + 14.0 + 18.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="{color}" stroke-width="3"/><text x="{3}" y="{4}">{5} ({6:.2} ms)</text>"#,
                ml + plot_w + 12.0,
                ml + plot_w + 32.0,
                ly,
                ml + plot_w + 38.0,
                ly + 4.0,
                esc(&ser.name),
                ser.median()
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.max(1e-9).log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
