//! `faceproof enroll | prove | verify`: the protected-template flow from the command line
//! (server-side scripts, interoperability tests with the Node verifier).

use crate::{pipeline, ModelArgs};
use base64::Engine;
use faceproof::align::Jitter;
use faceproof::embed::Embedding;
use faceproof::image::RgbImage;
use faceproof::pipeline::TemplateOptions;
use faceproof::Error;
use faceproof_protocol::{
    hex32, liveness_digest, verify_proof, Challenge, DeviceSecret, Enrolled, EnrollmentRequest, LivenessPolicy,
    LockParams, LoginRequest, OprfKey, OsRng, PassiveCheck, MAX_PROBE_VIEWS,
};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct EnrollArgs {
    /// Device secret, 64 hex digits
    #[arg(long)]
    secret: String,
    /// Relying-party id the reference is for
    #[arg(long)]
    rp: String,
    /// Epoch (a new epoch renews the keys)
    #[arg(long, default_value_t = 1)]
    epoch: u32,
    /// Where to write the sealed reference
    #[arg(long)]
    out: PathBuf,
    /// The relying party's OPRF key for this user, 64 hex digits (the command plays the
    /// relying party's part of enrollment; `faceproof oprf-key` makes one)
    #[arg(long)]
    oprf_key: String,
    /// Images of the enrolling face (each gives its template and jittered views)
    #[arg(required = true)]
    images: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// Device secret, 64 hex digits
    #[arg(long)]
    secret: String,
    /// The sealed reference file
    #[arg(long)]
    reference: PathBuf,
    /// The challenge: its JSON, or a file holding it
    #[arg(long)]
    challenge: String,
    /// Sign "liveness passed", prompts and passive check (the command line runs neither: for
    /// tests only)
    #[arg(long)]
    assume_live: bool,
    /// The relying party's OPRF key for this user, 64 hex digits (the command plays the
    /// relying party's evaluation)
    #[arg(long)]
    oprf_key: String,
    /// Images of the live face
    #[arg(required = true)]
    images: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The enrolled public key, 64 hex digits
    #[arg(long)]
    public_key: String,
    /// The enrolled sealed reference file
    #[arg(long)]
    reference: PathBuf,
    /// The challenge that was issued: its JSON, or a file holding it
    #[arg(long)]
    challenge: String,
    /// The proof, base64
    #[arg(long)]
    proof: String,
    /// Accept a proof without a passed liveness run
    #[arg(long)]
    no_liveness: bool,
    /// Verification time, Unix milliseconds [default: now]
    #[arg(long)]
    now: Option<u64>,
}

fn secret(hex: &str) -> Result<DeviceSecret, Error> {
    let bytes = hex32::decode(hex).ok_or_else(|| Error::InvalidArgument("--secret must be 64 hex digits".into()))?;
    Ok(DeviceSecret::from_bytes(&bytes)?)
}

fn oprf_key(hex: &str) -> Result<OprfKey, Error> {
    let bytes = hex32::decode(hex).ok_or_else(|| Error::InvalidArgument("--oprf-key must be 64 hex digits".into()))?;
    Ok(OprfKey::from_bytes(&bytes)?)
}

/// The embedder name references record (templates of another embedder cannot open them).
pub(crate) const MODEL: &str = faceproof::embed::MODEL_NAME;

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))
}

/// The face views of every image: template + jittered views (as the browser captures them).
fn views(images: &[PathBuf], model: &ModelArgs) -> Result<Vec<Embedding>, Error> {
    let p = pipeline(model)?;
    let mut out = vec![];
    for path in images {
        let (t, v) = p.views(&RgbImage::open(path)?, &TemplateOptions::default(), &Jitter::ENROLL)?;
        out.push(t.embedding);
        out.extend(v);
    }
    Ok(out)
}

fn challenge(text: &str) -> Result<Challenge, Error> {
    let json = if text.trim_start().starts_with('{') {
        text.to_string()
    } else {
        String::from_utf8_lossy(&read(Path::new(text))?).into_owned()
    };
    serde_json::from_str(&json).map_err(|e| faceproof_protocol::Error::MalformedProof(format!("challenge: {e}")).into())
}

pub fn enroll(args: &EnrollArgs) -> Result<(), Error> {
    let views = views(&args.images, &args.model)?;
    let key = oprf_key(&args.oprf_key)?;
    let secret = secret(&args.secret)?;
    let request =
        EnrollmentRequest::new(&mut OsRng, &secret, &args.rp, args.epoch, MODEL, &views, LockParams::DEFAULT)?;
    let evaluated = key.evaluate(request.blinded())?;
    let e = request.finish(&mut OsRng, &evaluated)?;
    std::fs::write(&args.out, &e.reference)
        .map_err(|err| Error::InvalidArgument(format!("{}: {err}", args.out.display())))?;
    println!(
        "{}",
        serde_json::json!({"publicKey": hex32::encode(&e.public_key), "reference": args.out, "bytes": e.reference.len()})
    );
    Ok(())
}

pub fn prove(args: &ProveArgs) -> Result<(), Error> {
    let ch = challenge(&args.challenge)?;
    let passive = if args.assume_live { PassiveCheck::Passed } else { PassiveCheck::NotRun };
    let live = liveness_digest(&ch, args.assume_live, passive);
    let mut views = views(&args.images, &args.model)?;
    views.truncate(MAX_PROBE_VIEWS);
    let key = oprf_key(&args.oprf_key)?;
    let request = LoginRequest::new(&mut OsRng, &secret(&args.secret)?, &read(&args.reference)?, &ch, MODEL, &views)?;
    let evaluated = key.evaluate(request.blinded())?;
    let proof = request.finish(&mut OsRng, &evaluated, live)?;
    println!("{}", base64::engine::general_purpose::STANDARD.encode(proof.to_bytes()));
    Ok(())
}

pub fn verify(args: &VerifyArgs) -> Result<(), Error> {
    let public_key = hex32::decode(&args.public_key)
        .ok_or_else(|| Error::InvalidArgument("--public-key must be 64 hex digits".into()))?;
    let reference = read(&args.reference)?;
    let proof = base64::engine::general_purpose::STANDARD
        .decode(args.proof.trim())
        .map_err(|_| faceproof_protocol::Error::MalformedProof("not base64".into()))?;
    let now = args.now.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    });
    let liveness = if args.no_liveness { LivenessPolicy::NotRequired } else { LivenessPolicy::Required };
    let enrolled = Enrolled { public_key, reference: &reference };
    verify_proof(&proof, &challenge(&args.challenge)?, &enrolled, liveness, now)?;
    println!("OK");
    Ok(())
}

/// `faceproof oprf-key`: a fresh relying-party OPRF key (hex), as a relying party draws one per
/// user and epoch.
pub fn new_oprf_key() -> Result<(), Error> {
    println!("{}", hex32::encode(&OprfKey::generate(&mut OsRng)?.to_bytes()));
    Ok(())
}
