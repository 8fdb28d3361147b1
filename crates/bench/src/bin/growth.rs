//! `myintress-bench-growth`: how the cost of benchmarks 1, 3 and 4 grows with the number
//! of memberships. Reads `points.json` from the runs at each size and writes the table
//! (`growth.md`) and the plot (`growth.svg`), time per row or per request against size on
//! logarithmic axes: a flat line is cost that grows linearly with the work.

#[path = "../points.rs"]
mod points;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use clap::Parser;
use plotters::prelude::*;

use points::Point;

#[derive(Parser)]
#[command(name = "myintress-bench-growth", about = "Growth table and plot from benchmark runs at several sizes")]
struct Cli {
    /// Where `growth.md` and `growth.svg` go.
    #[arg(long)]
    out: PathBuf,
    /// Output folders of `myintress-bench` runs (each with a `points.json`).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut points = Vec::new();
    for run in &cli.runs {
        let file = run.join(points::FILE);
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        points.extend(serde_json::from_str::<Vec<Point>>(&text).with_context(|| format!("parsing {}", file.display()))?);
    }
    ensure!(!points.is_empty(), "no points in {:?}", cli.runs);
    // Series in the order they were first measured, each with its value per size.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut by_series: BTreeMap<String, BTreeMap<usize, f64>> = BTreeMap::new();
    for p in &points {
        if !order.iter().any(|(s, _)| s == &p.series) {
            order.push((p.series.clone(), p.unit.clone()));
        }
        by_series.entry(p.series.clone()).or_default().insert(p.rows, p.value);
    }
    let mut sizes: Vec<usize> = points.iter().map(|p| p.rows).collect();
    sizes.sort_unstable();
    sizes.dedup();

    std::fs::create_dir_all(&cli.out)?;
    std::fs::write(cli.out.join("growth.md"), table(&order, &by_series, &sizes))?;
    plot(&cli.out.join("growth.svg"), &order, &by_series, &sizes)?;
    println!("{}", table(&order, &by_series, &sizes));
    Ok(())
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn table(order: &[(String, String)], by_series: &BTreeMap<String, BTreeMap<usize, f64>>, sizes: &[usize]) -> String {
    let (first, last) = (sizes[0], sizes[sizes.len() - 1]);
    let mut out = String::from("| figure | unit |");
    for s in sizes {
        out.push_str(&format!(" {} |", thousands(*s)));
    }
    out.push_str(&format!(" {} → {} |\n|---|---|", thousands(first), thousands(last)));
    out.push_str(&"---|".repeat(sizes.len() + 1));
    out.push('\n');
    for (series, unit) in order {
        let values = &by_series[series];
        out.push_str(&format!("| {series} | {unit} |"));
        for s in sizes {
            out.push_str(&values.get(s).map_or(" — |".to_owned(), |v| format!(" {} |", figure(*v))));
        }
        let growth = match (values.get(&first), values.get(&last)) {
            (Some(a), Some(b)) if *a > 0.0 => format!("{:.2}×", b / a),
            _ => "—".to_owned(),
        };
        out.push_str(&format!(" {growth} |\n"));
    }
    out
}

/// Three significant digits, whatever the magnitude.
fn figure(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Height of each panel's chart, and of a line of its legend below it (pixels).
const CHART_HEIGHT: u32 = 520;
const LEGEND_LINE: u32 = 18;

/// Two panels: per row (benchmark 1) and per query or request (benchmarks 3 and 4).
fn plot(
    path: &std::path::Path,
    order: &[(String, String)],
    by_series: &BTreeMap<String, BTreeMap<usize, f64>>,
    sizes: &[usize],
) -> Result<()> {
    // (title, whether the panel shows benchmark 1's series, its series)
    let groups = [("Benchmark 1: time per row", true), ("Benchmarks 3 and 4: time per query / request", false)]
        .map(|(title, first)| (title, first, order.iter().filter(|(s, _)| s.starts_with('1') == first).collect::<Vec<_>>()));
    // Each panel's legend has a band of its own below the chart, one line per series, so
    // it never hides a line (inside the chart it covered the 100,000 points).
    let legend_lines = groups.iter().map(|(_, _, series)| series.len()).max().unwrap_or(0) as u32;
    let root = SVGBackend::new(path, (1200, CHART_HEIGHT + 20 + LEGEND_LINE * legend_lines)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let (x_lo, x_hi) = (sizes[0] as f64 / 1.5, sizes[sizes.len() - 1] as f64 * 1.5);
    let mut colour = 0;
    for (panel, (title, first, series)) in panels.iter().zip(groups) {
        let values: Vec<f64> = series.iter().flat_map(|(s, _)| by_series[s].values().copied()).filter(|v| *v > 0.0).collect();
        if values.is_empty() {
            continue;
        }
        let (y_lo, y_hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let unit = series.first().map(|(_, u)| u.as_str()).unwrap_or("");
        let (panel, legend) = panel.split_vertically(CHART_HEIGHT);
        let mut chart = ChartBuilder::on(&panel)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo / 2.0..y_hi * 2.0).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("memberships")
            .y_desc(if first { unit } else { "ms" })
            .x_label_formatter(&|x| thousands(x.round() as usize))
            .draw()?;
        for (i, (name, _)) in series.into_iter().enumerate() {
            let style = Palette99::pick(colour).stroke_width(2);
            colour += 1;
            let line: Vec<(f64, f64)> = by_series[name].iter().map(|(rows, v)| (*rows as f64, *v)).collect();
            chart.draw_series(LineSeries::new(line.clone(), style))?;
            chart.draw_series(line.into_iter().map(|p| Circle::new(p, 3, style.filled())))?;
            let y = 12 + (LEGEND_LINE * i as u32) as i32;
            legend.draw(&PathElement::new(vec![(72, y), (96, y)], style))?;
            legend.draw(&Text::new(name.as_str(), (104, y - 7), ("sans-serif", 12)))?;
        }
    }
    root.present()?;
    Ok(())
}
