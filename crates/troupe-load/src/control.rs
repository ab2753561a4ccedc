//! The control-plane benchmark: `--concurrency` keep-alive connections, each signing (SigV4)
//! and sending IVS requests back to back for `--duration` — half CreateParticipantToken (a
//! store write and an ES384 signature), a quarter GetStage, a quarter ListStages — over a few
//! stages made first. Reports requests per second and latency percentiles per operation.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::json;

use crate::{
    cli::{Args, Target},
    histogram::Histogram,
    procfs,
    target::{sigv4::Credentials, troupe::TroupeApi},
};

const STAGES: usize = 10;
const OPERATIONS: [&str; 3] = ["CreateParticipantToken", "GetStage", "ListStages"];

#[derive(Debug, Serialize)]
pub struct ControlReport {
    pub scenario: &'static str,
    pub url: String,
    pub date: String,
    pub concurrency: u16,
    pub duration_s: f64,
    pub requests: u64,
    pub requests_per_s: f64,
    pub errors: u64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub server_cpu_us_per_request: Option<f64>,
    pub server_rss_mb: Option<f64>,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Serialize)]
pub struct Operation {
    pub name: &'static str,
    pub requests: u64,
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub fn run(args: &Args) -> Result<ControlReport> {
    if args.target != Target::Troupe {
        bail!("control benchmarks Troupe's IVS API; Janus has no such API (use --target troupe)");
    }
    procfs::check_exist(&args.server_pid)?;
    let creds = Arc::new(Credentials {
        access_key_id: args.access_key_id.clone(),
        secret_access_key: args.secret_access_key.clone(),
        region: args.region.clone(),
    });
    let mut setup = TroupeApi::new(&args.url, creds.clone())?;
    let arns = (0..STAGES)
        .map(|i| setup.create_stage(&format!("control-{}-{i}", std::process::id())))
        .collect::<Result<Vec<_>>>()?;
    eprintln!(
        "troupe-load: {} connections for {:.0} s…",
        args.concurrency,
        args.duration.as_secs_f64()
    );
    let cpu_before = procfs::cpu_time_of(&args.server_pid);
    let started = Instant::now();
    let deadline = started + args.duration;
    let totals = Mutex::new((vec![Histogram::default(); OPERATIONS.len()], 0u64, None::<String>));
    std::thread::scope(|scope| {
        for worker in 0..args.concurrency as usize {
            let (creds, arns, totals) = (creds.clone(), &arns, &totals);
            scope.spawn(move || {
                let mut latencies = vec![Histogram::default(); OPERATIONS.len()];
                let (mut errors, mut first_error) = (0u64, None);
                let mut api = match TroupeApi::new(&args.url, creds) {
                    Ok(api) => api,
                    Err(e) => return totals.lock().unwrap_or_else(|p| p.into_inner()).2 = Some(format!("{e:#}")),
                };
                let mut n = worker;
                while Instant::now() < deadline {
                    let stage = &arns[n % arns.len()];
                    let (op, body) = match n % 4 {
                        0 | 1 => (0, json!({ "stageArn": stage, "userId": format!("u{n}"), "capabilities": ["PUBLISH", "SUBSCRIBE"] })),
                        2 => (1, json!({ "arn": stage })),
                        _ => (2, json!({ "maxResults": 10 })),
                    };
                    let sent = Instant::now();
                    match api.call(OPERATIONS[op], &body) {
                        Ok(_) => latencies[op].record(sent.elapsed().as_micros() as u64),
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert_with(|| format!("{e:#}"));
                        }
                    }
                    n += 1;
                }
                let mut t = totals.lock().unwrap_or_else(|p| p.into_inner());
                for (all, mine) in t.0.iter_mut().zip(&latencies) {
                    all.merge(mine);
                }
                t.1 += errors;
                if t.2.is_none() {
                    t.2 = first_error;
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu =
        procfs::cpu_time_of(&args.server_pid).zip(cpu_before).map(|(a, b)| a.saturating_sub(b));
    let (latencies, errors, first_error) = totals.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = &first_error {
        eprintln!("troupe-load: {errors} requests failed; the first: {e}");
    }
    let mut all = Histogram::default();
    for h in &latencies {
        all.merge(h);
    }
    let requests = all.count();
    if requests == 0 {
        bail!("no request succeeded{}", first_error.map_or(String::new(), |e| format!(": {e}")));
    }
    let rate = |n: u64| (n as f64 / elapsed * 10.0).round() / 10.0;
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(ControlReport {
        scenario: "control",
        url: args.url.clone(),
        date: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        concurrency: args.concurrency,
        duration_s: (elapsed * 100.0).round() / 100.0,
        requests,
        requests_per_s: rate(requests),
        errors,
        latency_p50_ms: ms(all.quantile(0.5)),
        latency_p99_ms: ms(all.quantile(0.99)),
        server_cpu_us_per_request: server_cpu
            .map(|c| (c.as_secs_f64() * 1e6 / requests as f64 * 10.0).round() / 10.0),
        server_rss_mb: procfs::rss_kib_of(&args.server_pid)
            .map(|k| (k as f64 / 102.4).round() / 10.0),
        operations: OPERATIONS
            .iter()
            .zip(&latencies)
            .map(|(name, h)| Operation {
                name,
                requests: h.count(),
                requests_per_s: rate(h.count()),
                p50_ms: ms(h.quantile(0.5)),
                p99_ms: ms(h.quantile(0.99)),
            })
            .collect(),
    })
}

impl ControlReport {
    pub fn table(&self) -> String {
        let mut out = format!(
            "control plane at {} ({} connections, {:.1} s): {:.1} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} errors{}\n",
            self.url,
            self.concurrency,
            self.duration_s,
            self.requests_per_s,
            self.latency_p50_ms,
            self.latency_p99_ms,
            self.errors,
            self.server_cpu_us_per_request
                .map_or(String::new(), |c| format!(", server {c:.0} µs CPU/request")),
        );
        out.push_str("operation                 requests   req/s   p50 ms   p99 ms\n");
        for op in &self.operations {
            out.push_str(&format!(
                "{:<24} {:>9} {:>7.1} {:>8.2} {:>8.2}\n",
                op.name, op.requests, op.requests_per_s, op.p50_ms, op.p99_ms
            ));
        }
        out
    }
}
