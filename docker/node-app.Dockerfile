# One image recipe for the Node apps: docker build -f docker/node-app.Dockerfile --build-arg APP=producer .
# APP is one of producer, consumer, outlook-emulator. APP is declared after the installs, so the three images share
# their install layers. `npm run docker:check` runs these steps without a Docker engine (scripts/docker-steps.ts).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm ci, else npm install of the same locked versions (this registry lacks other platforms' optional binaries)
COPY scripts/npm-install-locked.sh scripts/
RUN sh scripts/npm-install-locked.sh
COPY . .
ARG APP
# Only the producer serves the dashboard; the others get an empty folder (the runtime stage copies it either way).
RUN npx nest build ${APP} \
  && if [ "${APP}" = "producer" ]; then npx vite build apps/dashboard; else mkdir -p apps/dashboard/dist; fi

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/npm-install-locked.sh scripts/
RUN sh scripts/npm-install-locked.sh --omit=dev && npm cache clean --force && rm -r scripts
ARG APP
# The emulator writes its local CA and certificate on first start; /app is not writable by `node`, so they go to a
# directory it owns (mount it to keep the CA across containers, and hand ca.pem to clients as NODE_EXTRA_CA_CERTS).
ENV HOST=0.0.0.0 APP=${APP} EMULATOR_CERT_DIR=/home/node/certs
COPY --from=build /src/dist/apps/${APP} ./dist
COPY --from=build /src/apps/dashboard/dist ./apps/dashboard/dist
# Node options per app, read by node itself (--env-file applies NODE_OPTIONS from it): the producer's young
# generation kept small, so the buffers of 4 MiB upload chunks are freed by frequent scavenges instead of piling up
# (docs/attachments.md, "Memory"; `npm start` passes the same flag); the other apps keep V8's defaults.
RUN if [ "${APP}" = "producer" ]; then echo 'NODE_OPTIONS=--max-semi-space-size=2' > node.env; else : > node.env; fi
USER node
CMD ["node", "--env-file=node.env", "dist/main.js"]
