# One image recipe for the Node apps: docker build -f docker/node-app.Dockerfile --build-arg APP=producer .
# APP is one of producer, consumer, outlook-emulator.
FROM node:20-bookworm-slim AS build
ARG APP
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx nest build ${APP} && if [ "${APP}" = "producer" ]; then npx vite build apps/dashboard; fi

FROM node:20-bookworm-slim
ARG APP
# The emulator writes its local CA and certificate on first start; /app is not writable by `node`, so they go to a
# directory it owns (mount it to keep the CA across containers, and hand ca.pem to clients as NODE_EXTRA_CA_CERTS).
ENV NODE_ENV=production HOST=0.0.0.0 APP=${APP} EMULATOR_CERT_DIR=/home/node/certs
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/apps/${APP} ./dist
COPY --from=build /src/apps/dashboard/dist ./apps/dashboard/dist
USER node
CMD ["node", "dist/main.js"]
