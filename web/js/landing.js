// The start page: pick or name a stage, say who you are and how you join, and go to the stage
// page's deep link, which joins at once.

import { activeStages } from './api.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;

function stageLink(stage, name, role) {
  const query = new URLSearchParams({ name, join: '1' });
  if (role !== 'host') query.set('role', role);
  return `/stage/${encodeURIComponent(stage)}?${query}`;
}

async function showActive() {
  let stages;
  try {
    stages = await activeStages();
  } catch {
    return; // the list is a convenience; typing a name still works
  }
  $('active').hidden = stages.length === 0;
  $('active-list').replaceChildren(...stages.map((s) => {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'stage-pick';
    button.dataset.stage = s.name;
    const people = `${s.participants} ${s.participants === 1 ? 'person' : 'people'}`;
    button.innerHTML = '<span class="stage-pick-name"></span> <span class="stage-pick-count"></span>';
    button.querySelector('.stage-pick-name').textContent = s.name;
    button.querySelector('.stage-pick-count').textContent = people;
    button.setAttribute('aria-label', `${s.name}, ${people}`);
    button.addEventListener('click', () => {
      $('stage').value = s.name;
      $('name').focus();
    });
    item.append(button);
    return item;
  }));
}

function start() {
  const params = new URLSearchParams(location.search);
  $('stage').value = params.get('stage') ?? '';
  $('name').value = localStorage.getItem('troupe-demo-name') ?? '';
  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const name = String(form.get('name')).trim();
    localStorage.setItem('troupe-demo-name', name);
    location.href = stageLink(String(form.get('stage')).trim(), name, String(form.get('role')));
  });
  ($('stage').value ? $('name') : $('stage')).focus();
  void showActive();
  setInterval(() => void showActive(), REFRESH_MS);
}

start();
