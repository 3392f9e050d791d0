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
ENV NODE_ENV=production HOST=0.0.0.0 APP=${APP}
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/apps/${APP} ./dist
COPY --from=build /src/apps/dashboard/dist ./apps/dashboard/dist
USER node
CMD ["node", "dist/main.js"]
