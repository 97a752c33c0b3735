// A local Asana API: checks the Bearer token, the `{"data": …}` envelope Asana requires, a known
// project gid and the task's name; keeps tasks (completed or not) and their stories. Errors come in
// Asana's `{"errors": [{message}]}` shape.
import {
  isObject,
  type RecordedRequest,
  route,
  startTrackerServer,
  type TrackerServer,
  type VendorAnswer,
} from './tracker-server';

export interface AsanaTask {
  gid: string;
  name: string;
  notes: string;
  projects: string[];
  completed: boolean;
  stories: string[];
}

export interface AsanaServer extends TrackerServer {
  tasks: AsanaTask[];
}

const error = (status: number, message: string): VendorAnswer => ({
  status,
  body: { errors: [{ message }] },
});

export async function startAsana(options: { token: string; projectGid: string }): Promise<AsanaServer> {
  const tasks: AsanaTask[] = [];
  const taskJson = (task: AsanaTask) => ({
    gid: task.gid,
    resource_type: 'task',
    name: task.name,
    notes: task.notes,
    completed: task.completed,
    permalink_url: `https://app.asana.test/0/${options.projectGid}/${task.gid}`,
  });

  const vendor = (request: RecordedRequest): VendorAnswer => {
    if (request.headers.authorization !== `Bearer ${options.token}`) return error(401, 'Not Authorized');
    const data = isObject(request.json) ? request.json.data : undefined;
    if (!isObject(data)) return error(400, 'data: Missing input');
    if (request.method === 'POST' && request.path === '/api/1.0/tasks') {
      const projects = data.projects;
      if (!Array.isArray(projects) || projects.length === 0) return error(400, 'projects: Missing input');
      const unknown = projects.find((gid) => gid !== options.projectGid);
      if (unknown !== undefined) return error(400, `projects: [0]: Not a recognized ID: ${String(unknown)}`);
      if (typeof data.name !== 'string' || !data.name) return error(400, 'name: Missing input');
      const task: AsanaTask = {
        gid: String(1_200_000_000_000_000 + tasks.length + 1),
        name: data.name,
        notes: typeof data.notes === 'string' ? data.notes : '',
        projects: projects.map(String),
        completed: false,
        stories: [],
      };
      tasks.push(task);
      return { status: 201, body: { data: taskJson(task) } };
    }
    const storyOn = route(request.path, '/api/1.0/tasks/:gid/stories');
    const taskAt = route(request.path, '/api/1.0/tasks/:gid');
    const gid = storyOn?.gid ?? taskAt?.gid;
    const task = tasks.find((candidate) => candidate.gid === gid);
    if (gid !== undefined && !task) return error(404, `Unknown object: ${gid}`);
    if (task && storyOn && request.method === 'POST') {
      if (typeof data.text !== 'string' || !data.text) return error(400, 'text: Missing input');
      task.stories.push(data.text);
      return {
        status: 201,
        body: { data: { gid: `${task.gid}${task.stories.length}`, type: 'comment', text: data.text } },
      };
    }
    if (task && taskAt && request.method === 'PUT') {
      if (data.completed !== undefined) {
        if (typeof data.completed !== 'boolean') return error(400, 'completed: Not a boolean');
        task.completed = data.completed;
      }
      return { status: 200, body: { data: taskJson(task) } };
    }
    return error(404, 'No matching route for request');
  };

  const server = await startTrackerServer(vendor);
  return { ...server, tasks };
}
