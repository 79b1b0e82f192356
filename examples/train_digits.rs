//! Trains an MLP and a small CNN on scikit-learn's "digits" data set (8x8
//! images, 1797 samples; fetched once with pip into the mlx-rs cache) with
//! mlx-rs's layers, losses, `Module::value_and_grad` and Adam, and reports
//! the test accuracy of each.
//!
//! ```text
//! cargo run --release --example train_digits
//! cargo run --release --example train_digits -- --cnn-epochs 20 --out-dir train_digits
//! ```
//!
//! The split is fixed (every fifth sample is a test sample: 1437 train, 360
//! test) and so is the seed (initialisation and batch order). Halfway
//! through the CNN's training a checkpoint (parameters and optimizer state,
//! safetensors, written to a temporary name and renamed) is saved; at the
//! end a fresh model resumes from it and must reach the same final loss,
//! bit for bit. Writes `<out-dir>/curves.svg` (loss and test accuracy per
//! epoch) and `<out-dir>/cnn.safetensors`. Exits with an error if the CNN's
//! test accuracy is below 97%.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use mlx_rs::optimizers::{Adam, Optimizer};
use mlx_workspace::digits::{
    accuracy, epoch_batches, load_checkpoint, save_checkpoint, train_step, Classifier, Cnn, Digits,
    Mlp,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

#[derive(Debug, Parser)]
#[command(about = "Train an MLP and a CNN on the digits data set with mlx-rs")]
struct Args {
    /// Epochs of the MLP.
    #[arg(long, default_value_t = 30)]
    mlp_epochs: u64,
    /// Epochs of the CNN (the checkpoint is saved after half of them).
    #[arg(long, default_value_t = 20)]
    cnn_epochs: u64,
    /// Samples per batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// The seed of the initialisation and the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the curves and the checkpoint go.
    #[arg(long, default_value = "train_digits")]
    out_dir: PathBuf,
}

/// Per epoch: the mean training loss and the test accuracy.
#[derive(Debug, Default)]
struct Curves {
    loss: Vec<f64>,
    acc: Vec<f64>,
}

struct Run<'a> {
    data: &'a Digits,
    train: &'a [usize],
    test: &'a [usize],
    batch: usize,
    seed: u64,
    pb: ProgressBar,
}

impl Run<'_> {
    /// Trains epochs `from..to`; returns the loss of the last step.
    fn epochs<M: Classifier, O: Optimizer>(
        &self,
        name: &str,
        model: &mut M,
        opt: &mut O,
        range: std::ops::Range<u64>,
        curves: Option<&mut Curves>,
    ) -> Res<f32> {
        let mut curves = curves;
        let mut last = f32::NAN;
        for epoch in range {
            let mut sum = 0f64;
            let batches = epoch_batches(self.train, self.batch, self.seed, epoch)?;
            for b in &batches {
                let (x, y) = self.data.batch(b, M::INPUT)?;
                last = train_step(model, opt, &x, &y)?.item::<f32>()?;
                sum += f64::from(last);
                self.pb.inc(1);
            }
            let loss = sum / batches.len() as f64;
            if let Some(c) = curves.as_deref_mut() {
                let acc = accuracy(model, self.data, self.test)?;
                c.loss.push(loss);
                c.acc.push(acc);
                self.pb.set_message(format!(
                    "{name} epoch {}: loss {loss:.4}, test accuracy {:.2}%",
                    epoch + 1,
                    acc * 100.0
                ));
            }
        }
        Ok(last)
    }
}

/// Prints a line above the progress bar (also when the bar is hidden, off a
/// terminal).
fn say(pb: &ProgressBar, line: String) {
    pb.suspend(|| println!("{line}"));
}

fn main() -> Res<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out_dir)?;
    let data = Digits::load().map_err(|e| format!("the digits data set: {e}"))?;
    let (train, test) = data.split();
    let steps_per_epoch = train.len().div_ceil(args.batch) as u64;
    let pb = ProgressBar::new((args.mlp_epochs + args.cnn_epochs) * steps_per_epoch);
    if let Ok(style) = ProgressStyle::with_template(
        "[{elapsed_precise}] [{bar:30.cyan/blue}] {pos}/{len} steps  {msg}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.enable_steady_tick(Duration::from_millis(200));
    let run = Run {
        data: &data,
        train: &train,
        test: &test,
        batch: args.batch,
        seed: args.seed,
        pb,
    };
    say(
        &run.pb,
        format!(
            "digits: {} train, {} test samples; batch {}, seed {}",
            train.len(),
            test.len(),
            args.batch,
            args.seed
        ),
    );

    // The MLP.
    let started = Instant::now();
    mlx_rs::random::seed(args.seed)?;
    let mut mlp = Mlp::new(32)?;
    let mut opt = Adam::new(0.01)?;
    let mut mlp_curves = Curves::default();
    run.epochs(
        "MLP",
        &mut mlp,
        &mut opt,
        0..args.mlp_epochs,
        Some(&mut mlp_curves),
    )?;
    let mlp_acc = accuracy(&mlp, &data, &test)?;
    say(
        &run.pb,
        format!(
            "MLP (64-32-10, Adam 0.01, {} epochs): test accuracy {:.2}% ({:.1} s)",
            args.mlp_epochs,
            mlp_acc * 100.0,
            started.elapsed().as_secs_f64()
        ),
    );

    // The CNN, with a checkpoint halfway.
    let started = Instant::now();
    mlx_rs::random::seed(args.seed)?;
    let mut cnn = Cnn::new()?;
    let mut opt = Adam::new(0.003)?;
    let mut cnn_curves = Curves::default();
    let half = args.cnn_epochs / 2;
    run.epochs("CNN", &mut cnn, &mut opt, 0..half, Some(&mut cnn_curves))?;
    let ckpt = args.out_dir.join("cnn.safetensors");
    save_checkpoint(&ckpt, &cnn, &opt, &[("epoch", half.to_string())])?;
    let final_loss = run.epochs(
        "CNN",
        &mut cnn,
        &mut opt,
        half..args.cnn_epochs,
        Some(&mut cnn_curves),
    )?;
    let cnn_acc = accuracy(&cnn, &data, &test)?;
    say(
        &run.pb,
        format!(
        "CNN (conv 16, conv 32, 128-64-10, Adam 0.003, {} epochs): test accuracy {:.2}% ({:.1} s)",
        args.cnn_epochs,
        cnn_acc * 100.0,
        started.elapsed().as_secs_f64()
    ),
    );
    run.pb.finish_and_clear();

    // Resume from the checkpoint into a model initialised differently.
    mlx_rs::random::seed(args.seed + 1)?;
    let mut resumed = Cnn::new()?;
    let mut opt2 = Adam::new(0.003)?;
    let meta = load_checkpoint(&ckpt, &mut resumed, &mut opt2)?;
    let from: u64 = meta
        .get("epoch")
        .ok_or("checkpoint without its epoch")?
        .parse()?;
    let resumed_loss = run.epochs("CNN", &mut resumed, &mut opt2, from..args.cnn_epochs, None)?;
    println!(
        "resumed from {} (epoch {from}): final loss {resumed_loss:.7} vs {final_loss:.7} ({})",
        ckpt.display(),
        if resumed_loss.to_bits() == final_loss.to_bits() {
            "bit for bit"
        } else {
            "DIFFERENT"
        }
    );

    let svg = args.out_dir.join("curves.svg");
    plot(&svg, &mlp_curves, &cnn_curves)?;
    println!("MLP test accuracy: {:.2}%", mlp_acc * 100.0);
    println!("CNN test accuracy: {:.2}%", cnn_acc * 100.0);
    println!("curves: {}", svg.display());
    if resumed_loss.to_bits() != final_loss.to_bits() {
        return Err("the resumed run did not reach the same loss".into());
    }
    if cnn_acc < 0.97 {
        return Err(format!("the CNN reached {:.2}%, below 97%", cnn_acc * 100.0).into());
    }
    Ok(())
}

/// Two panels: the mean training loss and the test accuracy per epoch, the
/// MLP in blue and the CNN in orange.
fn plot(path: &Path, mlp: &Curves, cnn: &Curves) -> Res<()> {
    use plotters::prelude::*;

    let (pw, ph, margin) = (420i32, 300i32, 60i32);
    let root = SVGBackend::new(
        path,
        (
            u32::try_from(2 * pw + 3 * margin)?,
            u32::try_from(ph + 2 * margin)?,
        ),
    )
    .into_drawing_area();
    root.fill(&WHITE)?;
    let font = |size: i32| ("sans-serif", size).into_font();
    let colors = [RGBColor(60, 100, 200), RGBColor(230, 120, 30)];
    let panels: [(&str, [&[f64]; 2], f64, f64); 2] = [
        (
            "training loss (mean per epoch)",
            [&mlp.loss, &cnn.loss],
            0.0,
            mlp.loss
                .iter()
                .chain(&cnn.loss)
                .copied()
                .fold(0.1, f64::max),
        ),
        ("test accuracy", [&mlp.acc, &cnn.acc], 0.8, 1.0),
    ];
    for (p, (title, series, lo, hi)) in panels.iter().enumerate() {
        let x0 = margin + i32::try_from(p)? * (pw + margin);
        let y0 = margin;
        root.draw(&Rectangle::new([(x0, y0), (x0 + pw, y0 + ph)], BLACK))?;
        root.draw(&Text::new(title.to_string(), (x0, y0 - 25), font(16)))?;
        for t in 0..=4 {
            let v = lo + (hi - lo) * f64::from(t) / 4.0;
            let y = y0 + ph - (f64::from(ph) * f64::from(t) / 4.0) as i32;
            root.draw(&PathElement::new(
                vec![(x0, y), (x0 + pw, y)],
                RGBColor(225, 225, 225),
            ))?;
            root.draw(&Text::new(format!("{v:.2}"), (x0 - 45, y - 7), font(12)))?;
        }
        let n = series.iter().map(|s| s.len()).max().unwrap_or(1).max(2);
        root.draw(&Text::new(
            "epoch",
            (x0 + pw / 2 - 15, y0 + ph + 12),
            font(12),
        ))?;
        for (s, color) in series.iter().zip(colors) {
            let pts: Vec<(i32, i32)> = s
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let x = x0 + (f64::from(pw) * i as f64 / (n - 1) as f64) as i32;
                    let v = v.clamp(*lo, *hi);
                    let y = y0 + ph - (f64::from(ph) * (v - lo) / (hi - lo)) as i32;
                    (x, y)
                })
                .collect();
            root.draw(&PathElement::new(pts, color.stroke_width(2)))?;
        }
    }
    root.draw(&Text::new(
        "MLP",
        (margin, ph + margin + 30),
        font(14).color(&colors[0]),
    ))?;
    root.draw(&Text::new(
        "CNN",
        (margin + 60, ph + margin + 30),
        font(14).color(&colors[1]),
    ))?;
    root.present()?;
    Ok(())
}
