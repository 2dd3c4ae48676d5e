//! The JavaScript API: a thin `wasm-bindgen` layer over the Rust core.
//!
//! State (models, templates) stays in wasm memory; calls pass pixels in and small results
//! out. Every error reaches JS as an `Error` with a stable `code` (see [`crate::Error::code`]).

use crate::detect::{Detection, DetectorKind};
use crate::error::Error;
use crate::image::RgbImage;
use crate::pipeline::{Alignment, FacePipeline, Selection, TemplateOptions};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// Turn a crate error into a JS `Error` with `code` and `name = "FaceproofError"`.
pub(crate) fn js_error(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("FaceproofError");
    let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().into());
    err.into()
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error(Error::InvalidArgument(e.to_string())))
}

fn from_js<T: for<'de> Deserialize<'de> + Default>(v: JsValue) -> Result<T, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| js_error(Error::InvalidArgument(e.to_string())))
}

/// Options accepted by `embed` (all optional).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct EmbedOptions {
    /// "front" (selfie, default) or "back" (ID photo, small faces).
    detector: Option<String>,
    /// Mirror fusion (default true).
    flip: Option<bool>,
    /// Exactly reference_pipeline.py (strongest anchor, 4-point alignment).
    reference: bool,
    /// "single" (default: error on several faces), "central", "largest", "strongest".
    selection: Option<String>,
}

impl EmbedOptions {
    fn template_options(&self) -> Result<TemplateOptions, Error> {
        let mut o = if self.reference { TemplateOptions::reference() } else { TemplateOptions::default() };
        o.detector = parse_detector(self.detector.as_deref())?;
        if let Some(f) = self.flip {
            o.flip = f;
        }
        if let Some(s) = &self.selection {
            o.selection = match s.as_str() {
                "single" => Selection::Single,
                "central" => Selection::Central,
                "strongest" => Selection::Strongest,
                other => return Err(Error::InvalidArgument(format!("unknown selection {other:?}"))),
            };
        }
        if self.reference {
            o.alignment = Alignment::Reference;
        }
        Ok(o)
    }
}

fn parse_detector(d: Option<&str>) -> Result<DetectorKind, Error> {
    match d {
        None | Some("front") => Ok(DetectorKind::Front128),
        Some("back") => Ok(DetectorKind::Back256),
        Some(other) => Err(Error::InvalidArgument(format!("unknown detector {other:?}"))),
    }
}

/// A face as JS sees it.
#[derive(Serialize)]
struct FaceJs {
    score: f32,
    #[serde(rename = "box")]
    bbox: [f32; 4],
    keypoints: [[f32; 2]; 6],
}

impl From<&Detection> for FaceJs {
    fn from(d: &Detection) -> Self {
        FaceJs { score: d.score, bbox: d.bbox, keypoints: d.keypoints }
    }
}

/// The face engine: load models once, then analyse and embed frames.
#[wasm_bindgen]
pub struct FaceEngine {
    pipeline: FacePipeline,
}

impl Default for FaceEngine {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl FaceEngine {
    #[wasm_bindgen(constructor)]
    pub fn new() -> FaceEngine {
        FaceEngine { pipeline: FacePipeline::default() }
    }

    /// Load one model from its ONNX bytes. `name` is the file name, e.g.
    /// `"blazeface_front_128.onnx"`.
    #[wasm_bindgen(js_name = loadModel)]
    pub fn load_model(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), JsValue> {
        self.pipeline.load_model(name, bytes).map_err(js_error)
    }

    /// Every face in an RGBA frame: `[{score, box: [x0,y0,x1,y1], keypoints: [[x,y] x6]}]`.
    pub fn detect(&self, rgba: &[u8], width: u32, height: u32, detector: Option<String>) -> Result<JsValue, JsValue> {
        let img = RgbImage::from_rgba(rgba, width, height).map_err(js_error)?;
        let kind = parse_detector(detector.as_deref()).map_err(js_error)?;
        let faces = self.pipeline.detect(&img, kind, crate::detect::MIN_SCORE).map_err(js_error)?;
        to_js(&faces.iter().map(FaceJs::from).collect::<Vec<_>>())
    }

    /// The 192-d L2-normalised embedding of the one face in an RGBA frame.
    pub fn embed(&self, rgba: &[u8], width: u32, height: u32, options: JsValue) -> Result<Vec<f32>, JsValue> {
        let opts: EmbedOptions = from_js(options)?;
        let img = RgbImage::from_rgba(rgba, width, height).map_err(js_error)?;
        let o = opts.template_options().map_err(js_error)?;
        let t = self.pipeline.template(&img, &o).map_err(js_error)?;
        Ok(t.embedding.0.clone())
    }
}
