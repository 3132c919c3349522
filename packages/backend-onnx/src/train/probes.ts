/**
 * Models that look inside training without changing it (parity checks, scoring): eval-mode forwards
 * for a set of outputs, and one train-mode forward and backward with every gradient as an output.
 */
import { extract, type GradResult, type Graph, grad, type TrainingForm, trainingForm } from '@siamese/core';
import type { InferenceSession } from 'onnxruntime-node';
import { createSession } from '../session.js';
import { type TrainingModel, trainingModel } from './step-model.js';

export interface TrainingSession {
  readonly model: TrainingModel;
  readonly session: InferenceSession;
}

export interface SessionPlace {
  readonly device: 'cuda' | 'cpu';
  readonly threads?: number;
}

async function open(model: TrainingModel, where: SessionPlace): Promise<TrainingSession> {
  const { session } = await createSession(model.bytes, {
    device: where.device,
    ...(where.threads !== undefined ? { threads: where.threads } : {}),
  });
  return { model, session };
}

/**
 * An eval-mode model for `which`: '+'-joined output names, or 'embedding' for the anchor branch
 * alone (a triplet graph's embedding of one image).
 */
export function evalModel(graph: Graph, which: string, where: SessionPlace): Promise<TrainingSession> {
  const outputs = which === 'embedding' ? ['embeddingA'] : which.split('+');
  const g =
    which === 'embedding'
      ? extract(graph, {
          name: `${graph.name}_embed`,
          inputs: [],
          outputs: [{ name: 'embeddingA', value: 'embeddingA' }],
        })
      : graph;
  return open(trainingModel(g, outputs, 'eval-mode forward'), where);
}

export interface GradModel extends TrainingSession {
  readonly form: TrainingForm;
  readonly grads: GradResult;
}

/** The training form's forward plus IR autodiff: every output, gradient and running statistic. */
export async function gradModel(graph: Graph, where: SessionPlace): Promise<GradModel> {
  const form = trainingForm(graph);
  const grads = grad(form.graph);
  const model = trainingModel(
    grads.graph,
    grads.graph.outputs.map((x) => x.name),
    'gradients',
  );
  return { ...(await open(model, where)), form, grads };
}
