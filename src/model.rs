//! The one place that talks to the inference engine (rten). Each stage owns a [`Model`] and
//! asks it for named outputs of one NHWC float input; swapping engines means rewriting this
//! file only.

use crate::error::{Error, Result};
use rten::{ModelOptions, NodeId, OpRegistry, ShapeInferenceMode};
use rten_tensor::prelude::*;
use rten_tensor::NdTensor;

/// The operators our models use (and the weight-compression variants: Cast for fp16
/// weights, DequantizeLinear for int8 weights). GlobalAveragePool and Sigmoid are only for the
/// anti-spoofing model's squeeze-excitation blocks. Keeping the registry this small lets the
/// linker drop the rest of rten from the .wasm.
fn op_registry() -> OpRegistry {
    use rten::op_types::*;
    OpRegistry::with_ops(&[
        &Abs,
        &Add,
        &Cast,
        &Concat,
        &ConstantOfShape,
        &Conv,
        &DequantizeLinear,
        &Flatten,
        &GlobalAveragePool,
        &MaxPool,
        &Mul,
        &Pad,
        &PRelu,
        &Relu,
        &Reshape,
        &Sigmoid,
        &Sub,
        &Transpose,
    ])
}

/// How a model's 1x1 convolutions compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Everything in float32 (the reference the accuracy gate compares against).
    Float32,
    /// The 1x1 convolutions whose weights the model file stores in int8 compute in 8-bit
    /// integers, their inputs quantized per pixel (rten patch 5, third_party/rten/PATCHES.md);
    /// float weights stay float. The embedder's GEMMs are most of the template time, and
    /// WebAssembly's relaxed dot product does 4x the multiply-adds of f32 per instruction.
    /// What the SDK runs for the embedder; lfw-dev accuracy in docs/accuracy.md.
    #[default]
    Int8Pointwise,
}

/// How every model loads. Symbolic shape inference is off: our models' fusions do not need it
/// (bit-identical outputs, `tests/engine_patches.rs`), and in the browser its code is compiled and
/// run at load for nothing: cold start 580 -> 546 ms (docs/performance.md).
pub fn options(precision: Precision) -> ModelOptions {
    let mut options = ModelOptions::with_ops(op_registry());
    options.shape_inference(ShapeInferenceMode::Off);
    // Prepacking is where the patched engine keeps int8 1x1 kernels in int8 (once, at load).
    options.prepack_weights(precision == Precision::Int8Pointwise);
    options
}

/// A loaded network with one float input and named outputs.
pub struct Model {
    name: &'static str,
    model: rten::Model,
    input: NodeId,
    outputs: Vec<NodeId>,
}

impl Model {
    /// Parse ONNX bytes; `outputs` are the output names the stage reads, in order.
    pub fn load(
        name: &'static str,
        bytes: Vec<u8>,
        precision: Precision,
        input: &str,
        outputs: &[&str],
    ) -> Result<Model> {
        let model = options(precision).load(bytes).map_err(|e| Error::ModelLoad(format!("{name}: {e}")))?;
        let node =
            |n: &str| model.find_node(n).ok_or_else(|| Error::ModelLoad(format!("{name}: no tensor named {n:?}")));
        let input = node(input)?;
        let outputs = outputs.iter().map(|o| node(o)).collect::<Result<Vec<_>>>()?;
        Ok(Model { name, model, input, outputs })
    }

    /// Run on an NHWC batch; returns each requested output flattened, row-major.
    pub fn run(&self, shape: [usize; 4], data: Vec<f32>) -> Result<Vec<Vec<f32>>> {
        if shape.iter().product::<usize>() != data.len() {
            return Err(Error::Inference(format!("{}: input shape {shape:?} vs {} values", self.name, data.len())));
        }
        let input = NdTensor::from_data(shape, data);
        let values = self
            .model
            .run(vec![(self.input, input.into())], &self.outputs, None)
            .map_err(|e| Error::Inference(format!("{}: {e}", self.name)))?;
        values
            .into_iter()
            .map(|v| {
                v.into_tensor::<f32>()
                    .map(|t| t.to_vec())
                    .ok_or_else(|| Error::Inference(format!("{}: output is not float32", self.name)))
            })
            .collect()
    }
}
