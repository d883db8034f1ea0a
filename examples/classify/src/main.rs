//! `classify MODEL.mote PHOTO [K]`: prints the K (default 5) most probable labels.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, photo) = match (args.first(), args.get(1)) {
        (Some(m), Some(p)) => (PathBuf::from(m), PathBuf::from(p)),
        _ => {
            eprintln!("usage: classify MODEL.mote PHOTO [K]");
            return ExitCode::from(2);
        }
    };
    let k = match args.get(2).map(|s| s.parse::<usize>()) {
        None => 5,
        Some(Ok(k)) if k > 0 => k,
        Some(_) => {
            eprintln!("error: K must be a positive integer");
            return ExitCode::from(2);
        }
    };
    let result = mote_example_classify::read_model(&model)
        .and_then(|bytes| mote_example_classify::classify(bytes.as_bytes(), &photo, k));
    match result {
        Ok(predictions) => {
            println!("{}:", photo.display());
            for p in predictions {
                println!("  {:<12} {:.4}", p.label, p.probability);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
