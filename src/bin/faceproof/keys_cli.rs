//! `faceproof enroll | prove | verify`: the protected-template flow from the command line
//! (server-side scripts, interoperability tests with the Node verifier).

use super::{pipeline, Args};
use faceproof::align::Jitter;
use faceproof::embed::Embedding;
use faceproof::image::RgbImage;
use faceproof::pipeline::TemplateOptions;
use faceproof::protect::face_key::LockParams;
use faceproof::protect::keys::DeviceSecret;
use faceproof::protect::proof::{hex32, Challenge};
use faceproof::protect::verifier::{verify_proof, Enrolled, LivenessPolicy};
use faceproof::protect::{enroll as enroll_views, liveness_digest_for, prove as prove_views};
use faceproof::Error;

fn need<'a>(args: &'a Args, name: &str) -> Result<&'a str, Error> {
    args.value(name).ok_or_else(|| Error::InvalidArgument(format!("--{name} is required")))
}

fn secret(args: &Args) -> Result<DeviceSecret, Error> {
    let bytes = hex32::decode(need(args, "secret")?)
        .ok_or_else(|| Error::InvalidArgument("--secret must be 64 hex digits".into()))?;
    DeviceSecret::from_bytes(&bytes)
}

fn read(path: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::InvalidArgument(format!("{path}: {e}")))
}

/// The face views of every image: template + jittered views (as the browser captures them).
fn views(args: &Args) -> Result<Vec<Embedding>, Error> {
    if args.positional.is_empty() {
        return Err(Error::InvalidArgument("give at least one image".into()));
    }
    let p = pipeline(args)?;
    let mut out = vec![];
    for path in &args.positional {
        let (t, v) = p.views(&RgbImage::open(path)?, &TemplateOptions::default(), &Jitter::ENROLL)?;
        out.push(t.embedding);
        out.extend(v);
    }
    Ok(out)
}

fn challenge(args: &Args) -> Result<Challenge, Error> {
    let text = need(args, "challenge")?;
    let json = if text.trim_start().starts_with('{') {
        text.to_string()
    } else {
        String::from_utf8_lossy(&read(text)?).into_owned()
    };
    serde_json::from_str(&json).map_err(|e| Error::MalformedProof(format!("challenge: {e}")))
}

pub fn enroll(args: &Args) -> Result<(), Error> {
    let epoch =
        args.value("epoch").map_or(Ok(1), |e| e.parse().map_err(|_| Error::InvalidArgument("bad --epoch".into())))?;
    let e = enroll_views(&secret(args)?, need(args, "rp")?, epoch, &views(args)?, LockParams::DEFAULT)?;
    let out = need(args, "out")?;
    std::fs::write(out, &e.reference).map_err(|err| Error::InvalidArgument(format!("{out}: {err}")))?;
    println!(
        "{}",
        serde_json::json!({"publicKey": hex32::encode(&e.public_key), "reference": out, "bytes": e.reference.len()})
    );
    Ok(())
}

pub fn prove(args: &Args) -> Result<(), Error> {
    use base64::Engine;
    let ch = challenge(args)?;
    // the CLI performs no liveness run: it signs "passed" only with --assume-live (tests)
    let live = liveness_digest_for(&ch, args.has("assume-live"));
    let proof = prove_views(&secret(args)?, &read(need(args, "reference")?)?, &ch, &views(args)?, live)?;
    println!("{}", base64::engine::general_purpose::STANDARD.encode(proof.to_bytes()));
    Ok(())
}

pub fn verify(args: &Args) -> Result<(), Error> {
    use base64::Engine;
    let public_key = hex32::decode(need(args, "public-key")?)
        .ok_or_else(|| Error::InvalidArgument("--public-key must be 64 hex digits".into()))?;
    let reference = read(need(args, "reference")?)?;
    let proof = base64::engine::general_purpose::STANDARD
        .decode(need(args, "proof")?.trim())
        .map_err(|_| Error::MalformedProof("not base64".into()))?;
    let now = match args.value("now") {
        Some(n) => n.parse().map_err(|_| Error::InvalidArgument("bad --now".into()))?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    };
    let liveness = if args.has("no-liveness") { LivenessPolicy::NotRequired } else { LivenessPolicy::Required };
    verify_proof(&proof, &challenge(args)?, &Enrolled { public_key, reference: &reference }, liveness, now)?;
    println!("OK");
    Ok(())
}
